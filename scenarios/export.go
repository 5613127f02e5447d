package scenarios

// exportScenarios lists the export-cycle scenarios.
func exportScenarios() []Scenario { return nil }
