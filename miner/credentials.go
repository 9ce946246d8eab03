package miner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
)

// CredentialFile is the JSON form of per-miner logins: keys are a miner's
// IP address, a dialect name ("antminer", "braiins", "whatsminer",
// "luxos") or "default"; the most specific key wins, and a miner matching
// none gets DefaultCredentials. Example:
//
//	{"default": {"user": "root", "password": "site-pass"},
//	 "whatsminer": {"user": "super", "password": "wm-pass"},
//	 "10.0.3.17": {"user": "root", "password": "odd-one"}}
type CredentialFile map[string]Credentials

// UnmarshalJSON reads {"user": ..., "password": ...}.
func (c *Credentials) UnmarshalJSON(b []byte) error {
	var v struct {
		User     *string `json:"user"`
		Password *string `json:"password"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if v.User == nil || v.Password == nil {
		return fmt.Errorf(`want {"user": ..., "password": ...}`)
	}
	c.User, c.Password = *v.User, *v.Password
	return nil
}

// LoadCredentials reads a CredentialFile.
func LoadCredentials(path string) (CredentialFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cf CredentialFile
	if err := json.Unmarshal(b, &cf); err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	for k := range cf {
		if _, err := netip.ParseAddr(k); err == nil || k == "default" {
			continue
		}
		known := false
		for _, d := range Dialects {
			known = known || string(d) == k
		}
		if !known {
			return nil, fmt.Errorf("credentials %s: key %q is not an IP address, a dialect or \"default\"", path, k)
		}
	}
	return cf, nil
}

// For returns the login for one miner; plug it into Options.Credentials.
func (cf CredentialFile) For(t Target, d Dialect) Credentials {
	if c, ok := cf[t.Host]; ok {
		return c
	}
	if c, ok := cf[string(d)]; ok {
		return c
	}
	if c, ok := cf["default"]; ok {
		return c
	}
	return DefaultCredentials[d]
}
