package api

import "slices"

// RecentRequests remembers which grid event each recent curtail request id
// became. Curtail requests are retried — by an HTTP client after a timeout,
// by an MQTT broker that delivers at least once — and a repeat must return
// the first event rather than shed the same megawatts twice. The zero value
// is ready to use. It is not safe for concurrent use: callers hold their own
// lock across Lookup and the curtail that Remember records, so two copies
// racing each other still find one another.
type RecentRequests struct {
	seen map[string]int64
}

// MaxRecentRequests bounds the remembered ids; past it the older half is
// forgotten (a retry comes within seconds, not after thousands of requests).
const MaxRecentRequests = 4096

// maxRequestIDLen bounds a request id, which is kept in memory and logged.
const maxRequestIDLen = 200

// Lookup returns the event an earlier request with this id became. An empty
// id is never found.
func (r *RecentRequests) Lookup(requestID string) (int64, bool) {
	if requestID == "" {
		return 0, false
	}
	id, ok := r.seen[requestID]
	return id, ok
}

// Remember records that requestID became event id; an empty id is ignored.
func (r *RecentRequests) Remember(requestID string, id int64) {
	if requestID == "" {
		return
	}
	if r.seen == nil {
		r.seen = map[string]int64{}
	}
	if len(r.seen) >= MaxRecentRequests {
		// Event ids grow with time, so the lower half is the older half.
		ids := make([]int64, 0, len(r.seen))
		for _, v := range r.seen {
			ids = append(ids, v)
		}
		slices.Sort(ids)
		cut := ids[len(ids)/2]
		for k, v := range r.seen {
			if v < cut {
				delete(r.seen, k)
			}
		}
	}
	r.seen[requestID] = id
}

// Len returns how many request ids are remembered.
func (r *RecentRequests) Len() int { return len(r.seen) }
