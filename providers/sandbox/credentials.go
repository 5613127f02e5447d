package sandbox

// Coinbase Advanced Trade needs an EC key to sign its JWTs even against
// the sandbox. CoinbaseKeyName and CoinbasePrivateKey are a key pair made
// for the sandbox only (it guards nothing), so the ffe CLI can run without
// real credentials. The sandbox accepts JWTs signed with any key unless it
// is built WithCoinbaseKey.
const (
	// CoinbaseKeyName is the CDP key name the sandbox credentials use.
	CoinbaseKeyName = "organizations/sandbox/apiKeys/" + Key
	// CoinbasePrivateKey is a P-256 private key in SEC 1 PEM form, made for
	// the sandbox and published with it; it is not a secret.
	CoinbasePrivateKey = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIDpPnE0uvhLR7JZ01KICi9BVM9+KoUB5g1w8eYyhjBmmoAoGCCqGSM49
AwEHoUQDQgAEqrC71lFW7dqmNgR1xr5DDNpZHJanGh2bZqrCDJG7FR+VurycMSnT
YVhPV1WrxHu/02ysPQL8cwY9sL4rA11UQw==
-----END EC PRIVATE KEY-----
`
)
