package scenarios

// providerScenarios lists the provider-fetch and Reddit-scan scenarios.
func providerScenarios() []Scenario { return nil }
