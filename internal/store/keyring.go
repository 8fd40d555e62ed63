package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Keyring encrypts registry passwords and webhook signing secrets at rest
// with AES-256-GCM under the server key. The key comes from VIGIL_SECRET_KEY
// (base64 of 32 bytes) or the file DATA_DIR/secret.key, created on first use
// with mode 0600. Every replica and worker must use the same key.
type Keyring struct {
	aead cipher.AEAD
}

// KeyFileName is the server key's file in the data directory.
const KeyFileName = "secret.key"

// LoadKeyring reads the key from env (the VIGIL_SECRET_KEY value, may be
// "") or dataDir, creating the file when neither has one and dataDir is set.
func LoadKeyring(env, dataDir string) (*Keyring, error) {
	var raw []byte
	switch {
	case env != "":
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(env))
		if err != nil {
			return nil, fmt.Errorf("VIGIL_SECRET_KEY: %w", err)
		}
		raw = b
	case dataDir != "":
		p := filepath.Join(dataDir, KeyFileName)
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			raw = make([]byte, 32)
			rand.Read(raw)
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, err
			}
			// O_EXCL: two processes starting together must not both write.
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, os.ErrExist) {
				return LoadKeyring("", dataDir)
			}
			if err != nil {
				return nil, fmt.Errorf("creating the server key: %w", err)
			}
			_, err = f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("writing the server key: %w", err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("reading the server key: %w", err)
		} else if raw, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err != nil {
			return nil, fmt.Errorf("server key %s: %w", p, err)
		}
	default:
		return nil, errors.New("no server key: set VIGIL_SECRET_KEY or --data-dir")
	}
	if len(raw) != 32 {
		return nil, fmt.Errorf("server key is %d bytes, want 32", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{aead: aead}, nil
}

// Seal encrypts plaintext; the nonce is prepended. aad binds the ciphertext
// to its row (a registry's password cannot be moved to another registry).
func (k *Keyring) Seal(plaintext, aad string) []byte {
	if plaintext == "" {
		return nil
	}
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
}

// Open decrypts what Seal produced.
func (k *Keyring) Open(ciphertext []byte, aad string) (string, error) {
	if len(ciphertext) == 0 {
		return "", nil
	}
	n := k.aead.NonceSize()
	if len(ciphertext) < n {
		return "", errors.New("secret is corrupt")
	}
	pt, err := k.aead.Open(nil, ciphertext[:n], ciphertext[n:], []byte(aad))
	if err != nil {
		return "", errors.New("secret does not decrypt with the server key")
	}
	return string(pt), nil
}
