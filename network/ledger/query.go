package ledger

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
)

// Query codes (ABCI Query has its own codes, separate from transactions).
const (
	QueryOK       = 0
	QueryNotFound = 1
	QueryBadPath  = 2
)

// Query answers read-only questions about the committed state as JSON:
// /params, /account/<addr>, /host/<addr>, /hosts, /escrow/<id>,
// /epoch/<n>, /reports, /validators (proof-validation records), /state.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	s := a.View()
	v, code, log := s.query(req.Path)
	res := &abci.ResponseQuery{Code: code, Log: log, Height: s.Height, Codespace: Codespace, Key: []byte(req.Path)}
	if code == QueryOK {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		res.Value = b
	}
	return res, nil
}

func (s *State) query(path string) (any, uint32, string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	notFound := func(what string) (any, uint32, string) { return nil, QueryNotFound, what + " not found" }
	switch {
	case len(parts) == 1 && parts[0] == "params":
		return s.Params, QueryOK, ""
	case len(parts) == 1 && parts[0] == "state":
		return s, QueryOK, ""
	case len(parts) == 1 && parts[0] == "hosts":
		return s.Hosts, QueryOK, ""
	case len(parts) == 1 && parts[0] == "reports":
		return s.Reports, QueryOK, ""
	case len(parts) == 1 && parts[0] == "validators":
		return s.Duty, QueryOK, ""
	case len(parts) == 2 && parts[0] == "account":
		if a := s.Accounts[parts[1]]; a != nil {
			return a, QueryOK, ""
		}
		return notFound("account " + parts[1])
	case len(parts) == 2 && parts[0] == "host":
		if h := s.Hosts[parts[1]]; h != nil {
			return h, QueryOK, ""
		}
		return notFound("host " + parts[1])
	case len(parts) == 2 && parts[0] == "escrow":
		if e := s.Escrows[parts[1]]; e != nil {
			return e, QueryOK, ""
		}
		return notFound("escrow " + parts[1])
	case len(parts) == 2 && parts[0] == "epoch":
		n, err := strconv.ParseUint(parts[1], 10, 64)
		if err != nil {
			return nil, QueryBadPath, "epoch number: " + err.Error()
		}
		if e := s.Epoch(n); e != nil {
			return e, QueryOK, ""
		}
		return notFound("epoch " + parts[1])
	}
	return nil, QueryBadPath, "unknown query path " + strconv.Quote(path) + " (want /params, /state, /hosts, /reports, /validators, /account/<addr>, /host/<addr>, /escrow/<id>, /epoch/<n>)"
}
