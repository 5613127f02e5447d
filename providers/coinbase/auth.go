package coinbase

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// JWTLifetime is how long a request's JWT is valid after it was signed, as
// Coinbase requires (exp = nbf + 120 s).
const JWTLifetime = 120 * time.Second

// signer makes the per-request JWTs of Advanced Trade.
type signer struct {
	keyName string
	key     *ecdsa.PrivateKey
	now     func() time.Time
}

type jwtHeader struct {
	Alg   string `json:"alg"`
	Kid   string `json:"kid"`
	Nonce string `json:"nonce"`
	Typ   string `json:"typ"`
}

type jwtClaims struct {
	Sub string `json:"sub"`
	Iss string `json:"iss"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
	URI string `json:"uri"`
}

func newSigner(keyName, privateKey string) (*signer, error) {
	key, err := parsePrivateKey(privateKey)
	if err != nil {
		return nil, err
	}
	return &signer{keyName: keyName, key: key, now: time.Now}, nil
}

// parsePrivateKey reads a P-256 key in SEC 1 ("EC PRIVATE KEY", as the CDP
// portal issues it) or PKCS #8 ("PRIVATE KEY") PEM form. A key pasted from a
// JSON file, with literal \n for its line breaks, is accepted too. Errors
// never quote the key.
func parsePrivateKey(text string) (*ecdsa.PrivateKey, error) {
	text = strings.TrimSpace(text)
	if !strings.Contains(text, "\n") && strings.Contains(text, `\n`) {
		text = strings.ReplaceAll(text, `\n`, "\n")
	}
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("coinbase: Config.PrivateKey is not a PEM block: want the key as issued, starting with -----BEGIN EC PRIVATE KEY-----")
	}
	var key *ecdsa.PrivateKey
	switch block.Type {
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("coinbase: Config.PrivateKey: %w", err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("coinbase: Config.PrivateKey: %w", err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("coinbase: Config.PrivateKey is a %T key; Advanced Trade needs an ECDSA (ES256) key", k)
		}
		key = ek
	default:
		return nil, fmt.Errorf("coinbase: Config.PrivateKey is a PEM %q block; want EC PRIVATE KEY or PRIVATE KEY", block.Type)
	}
	if key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("coinbase: Config.PrivateKey is on curve %s; ES256 needs P-256", key.Curve.Params().Name)
	}
	return key, nil
}

// authorize is the providers.Authorizer of the Advanced Trade client: it signs
// a fresh JWT for this attempt.
func (s *signer) authorize(req *http.Request, _ []byte) error {
	tok, err := s.token(req.Method+" "+req.URL.Host+req.URL.Path, s.now())
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// token returns a JWT for uri ("GET api.coinbase.com/api/v3/brokerage/accounts")
// valid from now for JWTLifetime.
func (s *signer) token(uri string, now time.Time) (string, error) {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", fmt.Errorf("jwt nonce: %w", err)
	}
	hdr, err := json.Marshal(jwtHeader{Alg: "ES256", Kid: s.keyName, Nonce: hex.EncodeToString(nonce[:]), Typ: "JWT"})
	if err != nil {
		return "", fmt.Errorf("jwt header: %w", err)
	}
	nbf := now.Unix()
	claims, err := json.Marshal(jwtClaims{Sub: s.keyName, Iss: "cdp", Nbf: nbf, Exp: nbf + int64(JWTLifetime/time.Second), URI: uri})
	if err != nil {
		return "", fmt.Errorf("jwt claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(hdr) + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("jwt signature: %w", err)
	}
	// JWS ES256 signatures are r and s as 32-byte big-endian integers.
	var sig [64]byte
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig[:]), nil
}
