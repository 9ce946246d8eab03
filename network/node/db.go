package node

import (
	"sync"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
)

// dbGrace is how long a stopped node keeps its databases open. CometBFT
// v0.38's consensus reactor has goroutines (queryMaj23Routine) that sleep
// between steps without re-checking whether the node stopped, then read the
// block store; closing it under them panics ("leveldb: closed"). Keeping
// the databases open a few sleep periods longer lets them drain.
const dbGrace = 4 * queryMaj23Sleep

// queryMaj23Sleep is CometBFT's peer_query_maj23_sleep_duration we set.
const queryMaj23Sleep = 200 * time.Millisecond

// dbSet opens CometBFT's databases and closes them only when told to.
type dbSet struct {
	mu  sync.Mutex
	dbs []dbm.DB
}

// provider is a cmtcfg.DBProvider whose databases ignore Close.
func (s *dbSet) provider(ctx *cmtcfg.DBContext) (dbm.DB, error) {
	db, err := cmtcfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.dbs = append(s.dbs, db)
	s.mu.Unlock()
	return deferredClose{db}, nil
}

// closeAll closes the real databases.
func (s *dbSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, db := range s.dbs {
		_ = db.Close()
	}
	s.dbs = nil
}

type deferredClose struct{ dbm.DB }

func (deferredClose) Close() error { return nil }
