package node

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// tasks runs an agent's background work at most once per key at a time.
// Agents act on every committed block, but the work a block starts (a proof
// sprint, a validation) outlives the block: the next blocks must not start
// it again while it runs.
type tasks[K comparable] struct {
	log     *slog.Logger
	msg     string        // logged when a task fails
	timeout time.Duration // bounds one run, so a hung peer cannot pin a key
	// keepDone leaves a key busy after success, so the work is done once
	// (a vote is cast once) until forget drops the key; otherwise a key is
	// free again as soon as its run ends.
	keepDone bool

	mu   sync.Mutex
	busy map[K]bool
}

func newTasks[K comparable](log *slog.Logger, msg string, timeout time.Duration, keepDone bool) *tasks[K] {
	return &tasks[K]{log: log, msg: msg, timeout: timeout, keepDone: keepDone, busy: map[K]bool{}}
}

// once runs f in the background unless key is busy. A failure frees key so
// that a later block retries it.
func (t *tasks[K]) once(ctx context.Context, key K, f func(context.Context) error) {
	t.mu.Lock()
	if t.busy[key] {
		t.mu.Unlock()
		return
	}
	t.busy[key] = true
	t.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(ctx, t.timeout)
		defer cancel()
		err := f(ctx)
		if err != nil && ctx.Err() == nil {
			t.log.Warn(t.msg, "task", key, "err", err)
		}
		if err != nil || !t.keepDone {
			t.mu.Lock()
			delete(t.busy, key)
			t.mu.Unlock()
		}
	}()
}

// forget frees the keys for which done reports true.
func (t *tasks[K]) forget(done func(K) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.busy {
		if done(k) {
			delete(t.busy, k)
		}
	}
}
