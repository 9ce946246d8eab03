package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jouleworks/joule/network/tx"
)

// keyFile is the JSON form of an account key on disk.
type keyFile struct {
	Address string `json:"address"`
	Seed    string `json:"seed"`
}

// NewAccountKey returns a fresh ed25519 account key.
func NewAccountKey() ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return k
}

// Address returns the ledger address (hex public key) of key.
func Address(key ed25519.PrivateKey) string {
	return tx.PubKey(key.Public().(ed25519.PublicKey)).String()
}

// SaveKey writes key to path (mode 0600), refusing to overwrite.
func SaveKey(path string, key ed25519.PrivateKey) error {
	b, err := json.MarshalIndent(keyFile{Address: Address(key), Seed: hex.EncodeToString(key.Seed())}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("save key: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("save key %s: %w", path, err)
	}
	return f.Close()
}

// LoadKey reads an account key written by SaveKey.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, fmt.Errorf("load key %s: %w", path, err)
	}
	seed, err := hex.DecodeString(kf.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("load key %s: field seed: want %d hex bytes", path, ed25519.SeedSize)
	}
	k := ed25519.NewKeyFromSeed(seed)
	if kf.Address != "" && kf.Address != Address(k) {
		return nil, fmt.Errorf("load key %s: address %s does not match the seed's %s", path, kf.Address, Address(k))
	}
	return k, nil
}

// loadOrCreateKey loads path, creating a new key there if it is missing.
func loadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	k, err := LoadKey(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k = NewAccountKey()
	return k, SaveKey(path, k)
}
