package scenarios

// componentScenarios lists the crew, monitor and engine scenarios.
func componentScenarios() []Scenario { return nil }
