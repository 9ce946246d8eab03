package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jouleworks/joule/store"
)

// table describes one telemetry kind for the generated rollup SQL.
type table struct {
	raw  string
	key  string   // per-device key column; "" for site
	avg  []string // columns averaged into <col>_avg
	max  []string // columns maxed into <col>_max
	errs bool     // count samples with non-empty errors into error_n
}

var tables = map[store.Kind]table{
	store.KindSite:  {raw: "site_samples", avg: []string{"mining_mw", "ai_mw", "grid_mw", "curtailed_mw", "cap_mw", "price", "hashprice"}},
	store.KindMiner: {raw: "miner_samples", key: "miner_id", avg: []string{"hashrate_ths", "power_w", "fan_rpm"}, max: []string{"inlet_c", "chip_c"}, errs: true},
	store.KindGPU:   {raw: "gpu_samples", key: "gpu_id", avg: []string{"util_pct", "power_w", "mem_used_mib"}, max: []string{"temp_c"}},
}

func (t table) rollup(suffix string) string {
	return strings.TrimSuffix(t.raw, "_samples") + "_" + suffix
}

// minuteSQL builds the upsert of 1-minute buckets from raw samples.
func (t table) minuteSQL() string {
	var cols, sel []string
	group := "(t/60000)*60000"
	if t.key != "" {
		cols, sel = append(cols, t.key), append(sel, t.key)
	}
	cols, sel = append(cols, "t", "n"), append(sel, group, "COUNT(*)")
	for _, c := range t.avg {
		cols, sel = append(cols, c+"_avg"), append(sel, "AVG("+c+")")
	}
	for _, c := range t.max {
		cols, sel = append(cols, c+"_max"), append(sel, "MAX("+c+")")
	}
	if t.errs {
		cols, sel = append(cols, "error_n"), append(sel, "SUM(CASE WHEN errors <> '' THEN 1 ELSE 0 END)")
	}
	return t.upsert(t.rollup("1m"), cols, sel, t.raw, group)
}

// hourSQL builds the upsert of 1-hour buckets from 1-minute rollups. Means
// are weighted by the sample count behind each minute, so the hour mean
// equals the mean of its raw samples.
func (t table) hourSQL() string {
	var cols, sel []string
	group := "(t/3600000)*3600000"
	if t.key != "" {
		cols, sel = append(cols, t.key), append(sel, t.key)
	}
	cols, sel = append(cols, "t", "n"), append(sel, group, "CAST(SUM(n) AS BIGINT)")
	for _, c := range t.avg {
		a := c + "_avg"
		cols = append(cols, a)
		sel = append(sel, fmt.Sprintf("CAST(SUM(%s*n) AS DOUBLE PRECISION) / NULLIF(CAST(SUM(CASE WHEN %s IS NULL THEN 0 ELSE n END) AS DOUBLE PRECISION), 0)", a, a))
	}
	for _, c := range t.max {
		cols, sel = append(cols, c+"_max"), append(sel, "MAX("+c+"_max)")
	}
	if t.errs {
		cols, sel = append(cols, "error_n"), append(sel, "CAST(SUM(error_n) AS BIGINT)")
	}
	return t.upsert(t.rollup("1h"), cols, sel, t.rollup("1m"), group)
}

func (t table) upsert(dst string, cols, sel []string, src, group string) string {
	conflict := "t"
	groupBy := group
	if t.key != "" {
		conflict = t.key + ", t"
		groupBy = t.key + ", " + group
	}
	var set []string
	for _, c := range cols {
		if c != t.key && c != "t" {
			set = append(set, c+" = excluded."+c)
		}
	}
	return "INSERT INTO " + dst + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(sel, ", ") +
		" FROM " + src + " WHERE t >= ? AND t < ? GROUP BY " + groupBy +
		" ON CONFLICT (" + conflict + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// WriteMinerSamples implements store.TelemetryWriter. A sample repeated
// (same miner and millisecond) is ignored, so a retried batch is harmless.
func (db *DB) WriteMinerSamples(ctx context.Context, s []store.MinerSample) error {
	for i, m := range s {
		if m.MinerID == "" || m.Time.IsZero() {
			return fmt.Errorf("%w: miner sample %d: miner id and time are required", store.ErrInvalid, i)
		}
	}
	cols := []string{"t", "miner_id", "hashrate_ths", "power_w", "inlet_c", "chip_c", "fan_rpm", "state", "errors"}
	return db.insertRows(ctx, "miner_samples", cols, "ON CONFLICT DO NOTHING", len(s), func(i int, a []any) []any {
		m := s[i]
		return append(a, m.Time.UnixMilli(), m.MinerID, store.Nullable(m.HashrateTHs), store.Nullable(m.PowerW),
			store.Nullable(m.InletC), store.Nullable(m.ChipC), store.Nullable(m.FanRPM), m.State, m.Errors)
	})
}

// WriteGPUSamples implements store.TelemetryWriter.
func (db *DB) WriteGPUSamples(ctx context.Context, s []store.GPUSample) error {
	for i, g := range s {
		if g.GPUID == "" || g.Time.IsZero() {
			return fmt.Errorf("%w: gpu sample %d: gpu id and time are required", store.ErrInvalid, i)
		}
	}
	cols := []string{"t", "gpu_id", "source", "util_pct", "power_w", "temp_c", "mem_used_mib", "mem_total_mib"}
	return db.insertRows(ctx, "gpu_samples", cols, "ON CONFLICT DO NOTHING", len(s), func(i int, a []any) []any {
		g := s[i]
		return append(a, g.Time.UnixMilli(), g.GPUID, g.Source, store.Nullable(g.UtilPct), store.Nullable(g.PowerW),
			store.Nullable(g.TempC), store.Nullable(g.MemUsedMiB), store.Nullable(g.MemTotalMiB))
	})
}

// WriteSiteSamples implements store.TelemetryWriter.
func (db *DB) WriteSiteSamples(ctx context.Context, s []store.SiteSample) error {
	for i, x := range s {
		if x.Time.IsZero() {
			return fmt.Errorf("%w: site sample %d: time is required", store.ErrInvalid, i)
		}
	}
	cols := []string{"t", "mining_mw", "ai_mw", "grid_mw", "curtailed_mw", "cap_mw", "price", "hashprice"}
	return db.insertRows(ctx, "site_samples", cols, "ON CONFLICT DO NOTHING", len(s), func(i int, a []any) []any {
		x := s[i]
		return append(a, x.Time.UnixMilli(), store.Nullable(x.MiningMW), store.Nullable(x.AIMW), store.Nullable(x.GridMW),
			store.Nullable(x.CurtailedMW), store.Nullable(x.CapMW), store.Nullable(x.PriceUSDMWh), store.Nullable(x.HashpriceUSD))
	})
}

// Rollup implements store.Maintainer.
func (db *DB) Rollup(ctx context.Context, from, to time.Time) error {
	m0, m1 := from.Truncate(time.Minute).UnixMilli(), to.Truncate(time.Minute).UnixMilli()
	h0, h1 := from.Truncate(time.Hour).UnixMilli(), to.Truncate(time.Hour).UnixMilli()
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rollup: begin: %w", err)
	}
	defer tx.Rollback()
	for _, k := range []store.Kind{store.KindSite, store.KindMiner, store.KindGPU} {
		t := tables[k]
		if m1 > m0 {
			if _, err := tx.ExecContext(ctx, db.q(t.minuteSQL()), m0, m1); err != nil {
				return fmt.Errorf("rollup %s 1m: %w", k, err)
			}
		}
		if h1 > h0 {
			if _, err := tx.ExecContext(ctx, db.q(t.hourSQL()), h0, h1); err != nil {
				return fmt.Errorf("rollup %s 1h: %w", k, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rollup: commit: %w", err)
	}
	return nil
}

// pruneSlice bounds one delete transaction: deleting a week of a 10,000-miner
// fleet at once would hold SQLite's write lock for seconds and stall the
// poll loop, so old rows go an hour of data at a time.
const pruneSlice = time.Hour

// Prune implements store.Maintainer.
func (db *DB) Prune(ctx context.Context, now time.Time) (store.PruneStats, error) {
	var st store.PruneStats
	del := func(tbl string, keep time.Duration, n *int64) error {
		if keep <= 0 {
			return nil
		}
		cutoff := now.Add(-keep).UnixMilli()
		var oldest sql.NullInt64
		if err := db.W.QueryRowContext(ctx, db.q("SELECT MIN(t) FROM "+tbl+" WHERE t < ?"), cutoff).Scan(&oldest); err != nil {
			return fmt.Errorf("prune %s: %w", tbl, err)
		}
		if !oldest.Valid {
			return nil
		}
		for upTo := oldest.Int64; upTo < cutoff; {
			upTo = min(upTo+pruneSlice.Milliseconds(), cutoff)
			res, err := db.W.ExecContext(ctx, db.q("DELETE FROM "+tbl+" WHERE t < ?"), upTo)
			if err != nil {
				return fmt.Errorf("prune %s: %w", tbl, err)
			}
			c, _ := res.RowsAffected()
			*n += c
		}
		return nil
	}
	for _, k := range []store.Kind{store.KindSite, store.KindMiner, store.KindGPU} {
		t := tables[k]
		if err := del(t.raw, db.Retention.Raw, &st.Raw); err != nil {
			return st, err
		}
		if err := del(t.rollup("1m"), db.Retention.Minute, &st.Minute); err != nil {
			return st, err
		}
		if err := del(t.rollup("1h"), db.Retention.Hour, &st.Hour); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Series implements store.TelemetryReader.
func (db *DB) Series(ctx context.Context, q store.SeriesQuery) ([]store.Point, error) {
	col, err := store.MetricColumn(q)
	if err != nil {
		return nil, err
	}
	t := tables[q.Kind]
	tbl, n := t.raw, "1"
	if q.Resolution != store.Raw {
		tbl, n = t.rollup(string(q.Resolution)), "n"
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.From.IsZero() {
		from = q.From.UnixMilli()
	}
	if !q.To.IsZero() {
		to = q.To.UnixMilli()
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	where := "t >= ? AND t < ? AND " + col + " IS NOT NULL"
	args := []any{from, to}
	if t.key != "" {
		where = t.key + " = ? AND " + where
		args = append([]any{q.ID}, args...)
	}
	// The newest points when the window holds more than the limit, returned
	// oldest first.
	text := "SELECT t, " + col + ", " + n + " FROM " + tbl + " WHERE " + where + " ORDER BY t DESC LIMIT ?"
	rows, err := db.R.QueryContext(ctx, db.q(text), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("series %s %s: %w", q.Kind, q.Metric, err)
	}
	defer rows.Close()
	var out []store.Point
	for rows.Next() {
		var ms, cnt int64
		var v sql.NullFloat64
		if err := rows.Scan(&ms, &v, &cnt); err != nil {
			return nil, fmt.Errorf("series %s %s: %w", q.Kind, q.Metric, err)
		}
		p := store.Point{Time: store.FromMillis(ms), Value: v.Float64}
		if q.Resolution != store.Raw {
			p.N = cnt
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
