package config

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/leakgate/leakgate/providers/registry"
)

// ServerSection is the SecretSpec.Provider of the secrets of the server
// section: the API token of `ffe serve`, read from FFE_SERVER_TOKEN,
// FFE_SERVER_TOKEN_FILE or server.token_file.
const ServerSection = "server"

// SecretSpec describes one secret a provider (or the server section)
// takes.
type SecretSpec struct {
	// Provider is the provider name, e.g. "coinbase", or ServerSection.
	Provider string
	// Name is the secret's name, e.g. "private_key".
	Name string
	// Env is the environment variable holding the value; Env+"_FILE" names
	// a file holding it.
	Env string
}

// FileKey is the YAML key, under providers.<Provider> (or server), of the
// secret's file entry.
func (s SecretSpec) FileKey() string { return s.Name + "_file" }

// SecretSpecs lists every secret the configuration reads, in a stable
// order: FFE_ALPHAVANTAGE_API_KEY, FFE_POLYGON_API_KEY,
// FFE_FINNHUB_API_KEY, FFE_COINBASE_KEY_NAME, FFE_COINBASE_PRIVATE_KEY,
// FFE_OANDA_TOKEN, FFE_REDDIT_CLIENT_ID, FFE_REDDIT_CLIENT_SECRET,
// FFE_LLM_API_KEY and FFE_SERVER_TOKEN.
func SecretSpecs() []SecretSpec {
	var out []SecretSpec
	for _, p := range registry.All() {
		for _, s := range p.Secrets {
			out = append(out, SecretSpec{Provider: p.Name, Name: s.Name, Env: s.Env})
		}
	}
	return append(out, SecretSpec{Provider: ServerSection, Name: "token", Env: "FFE_SERVER_TOKEN"})
}

// secretFile returns the YAML file entry of secret s and its key, or ""
// when there is none.
func (c *Config) secretFile(s SecretSpec) (path, key string) {
	if s.Provider == ServerSection {
		return c.Server.TokenFile, ServerSection + "." + s.FileKey()
	}
	for _, f := range secretFileFields(c.Providers[s.Provider]) {
		if f.secret == s.Name && f.path != "" {
			return f.path, "providers." + s.Provider + "." + s.FileKey()
		}
	}
	return "", ""
}

// RequiredSecrets returns the secrets provider cannot be built without;
// Coinbase needs none for market data (see registry.Secret.Required).
func RequiredSecrets(provider string) []string {
	p, _ := registry.Lookup(provider)
	return p.Required()
}

// secretFileFields pairs each secret file field of p with its secret name.
func secretFileFields(p Provider) []struct{ secret, path string } {
	return []struct{ secret, path string }{
		{registry.APIKey, p.APIKeyFile},
		{registry.KeyName, p.KeyNameFile},
		{registry.PrivateKey, p.PrivateKeyFile},
		{registry.Token, p.TokenFile},
		{registry.ClientID, p.ClientIDFile},
		{registry.ClientSecret, p.ClientSecretFile},
	}
}

// secretKeys are YAML keys that would hold a secret in the file body; they
// are refused with a hint at the environment variable: every provider
// secret, the server's token and two generic names.
var secretKeys = func() map[string]bool {
	m := map[string]bool{"token": true, "password": true, "secret": true}
	for _, n := range registry.SecretNames() {
		m[n] = true
	}
	return m
}()

// loadSecrets reads every secret: the variable itself wins over its _FILE
// variable, which wins over the YAML _file entry.
func (c *Config) loadSecrets(env func(string) (string, bool)) error {
	if c.secrets == nil {
		c.secrets = map[string]string{}
	}
	for _, s := range SecretSpecs() {
		if v, ok := env(s.Env); ok && v != "" {
			c.secrets[s.Provider+"."+s.Name] = strings.TrimSpace(v)
			continue
		}
		path, origin := "", ""
		if p, ok := env(s.Env + "_FILE"); ok && p != "" {
			path, origin = p, s.Env+"_FILE"
		} else {
			path, origin = c.secretFile(s)
		}
		if path == "" {
			continue
		}
		v, err := ReadSecretFile(path)
		if err != nil {
			return &Error{File: c.File, Err: fmt.Errorf("%s: %w", origin, err)}
		}
		c.secrets[s.Provider+"."+s.Name] = v
	}
	return nil
}

const maxSecretBytes = 64 << 10

// ReadSecretFile reads a secret from path, trimmed of surrounding white
// space. The file must be a regular file of at most 64 KiB that neither
// group nor others can read or write (chmod 600). A named pipe, device,
// socket or directory is refused before it is opened, and the open itself
// never waits for a writer, so a bad path fails at once instead of
// hanging. Errors name the path and what to do, never the content.
func ReadSecretFile(path string) (string, error) {
	fi, err := os.Stat(path) // follows symlinks: mounted secrets often are
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	if err := checkSecretFileInfo(path, fi); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	defer f.Close()
	// Check what was opened, in case path was swapped after the Stat.
	ofi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	if !os.SameFile(fi, ofi) {
		return "", fmt.Errorf("secret file %s changed while it was opened; try again", path)
	}
	if err := checkSecretFileInfo(path, ofi); err != nil {
		return "", err
	}
	buf, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return "", fmt.Errorf("secret file %s: %w", path, err)
	}
	if len(buf) > maxSecretBytes {
		return "", fmt.Errorf("secret file %s is larger than %d bytes: it should hold the secret alone", path, maxSecretBytes)
	}
	v := strings.TrimSpace(string(buf))
	if v == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return v, nil
}

// checkSecretFileInfo refuses anything but a small regular file readable by
// its owner alone.
func checkSecretFileInfo(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("secret file %s is not a regular file (it is a %s): point it at a regular file holding the secret, mode 0600",
			path, fileKind(fi.Mode()))
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("secret file %s has mode %04o, open to group or others: run chmod 600 %s", path, perm, path)
	}
	if fi.Size() > maxSecretBytes {
		return fmt.Errorf("secret file %s is larger than %d bytes: it should hold the secret alone", path, maxSecretBytes)
	}
	return nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeCharDevice != 0:
		return "character device"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// SecretStatus is how `config show` reports one secret.
type SecretStatus struct {
	// Env is the variable the secret is read from; Value is REDACTED or
	// unset.
	Env   string `yaml:"env" json:"env"`
	Value string `yaml:"value" json:"value"`
}

// SecretsReport returns, per "provider.name" (and "server.token"), whether each secret is set,
// with values replaced by REDACTED.
func (c *Config) SecretsReport() map[string]SecretStatus {
	out := map[string]SecretStatus{}
	for _, s := range SecretSpecs() {
		st := SecretStatus{Env: s.Env, Value: "unset"}
		if c.Secret(s.Provider, s.Name) != "" {
			st.Value = "REDACTED"
		}
		out[s.Provider+"."+s.Name] = st
	}
	return out
}
