package api

import (
	"fmt"
	"testing"
)

// TestRecentRequestsBounded: the remembered request ids stay under the bound
// and the newest survive the trim.
func TestRecentRequestsBounded(t *testing.T) {
	var r RecentRequests
	for i := range 3 * MaxRecentRequests {
		r.Remember(fmt.Sprintf("r%d", i), int64(i+1))
	}
	if n := r.Len(); n > MaxRecentRequests {
		t.Fatalf("%d request ids remembered, want ≤ %d", n, MaxRecentRequests)
	}
	if id, ok := r.Lookup(fmt.Sprintf("r%d", 3*MaxRecentRequests-1)); !ok || id != 3*MaxRecentRequests {
		t.Fatalf("newest id: got %d, %v; want %d, true", id, ok, 3*MaxRecentRequests)
	}
	if _, ok := r.Lookup("r0"); ok {
		t.Fatal("the oldest request id survived the trim")
	}
	r.Remember("", 7)
	if _, ok := r.Lookup(""); ok {
		t.Fatal("an empty request id was remembered")
	}
}
