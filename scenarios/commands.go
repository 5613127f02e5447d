package scenarios

// commandScenarios lists the ffe command scenarios.
func commandScenarios() []Scenario { return nil }
