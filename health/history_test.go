package health

import (
	"testing"
	"time"
)

func TestHistory(t *testing.T) {
	h := History{Window: time.Hour}
	src := synth(9, cases[2].mod) // 6 h at 5 min
	// Add newest-but-one first to exercise out-of-order inserts.
	h.Add(src[len(src)-1])
	for _, s := range src[:len(src)-1] {
		h.Add(s)
	}
	h.Add(Sample{}) // no time: ignored
	if h.Len() != 13 {
		t.Fatalf("kept %d samples, want 13 (one hour at 5 min, both ends)", h.Len())
	}
	s := h.Samples()
	for i := 1; i < len(s); i++ {
		if s[i].At.Before(s[i-1].At) {
			t.Fatalf("samples out of order at %d", i)
		}
	}
	if !s[len(s)-1].At.Equal(src[len(src)-1].At) {
		t.Errorf("newest kept %s, want %s", s[len(s)-1].At, src[len(src)-1].At)
	}
	a, err := h.Assess(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.SpanHours != 1 || a.Kind != FanWear {
		t.Errorf("assessment span %.2f h kind %s, want 1 h fan_wear", a.SpanHours, a.Kind)
	}
}
