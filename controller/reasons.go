package controller

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/site"
)

// Reasons for people. The dispatch package's reasons are terse and keyed
// by tier name and code ("s19xp-braiins: below-breakeven: 40 on (mostly
// stock): ..."); the decision log and the audit show them as an operator
// reads them: the machine, the prices compared, and what happens.

var (
	reRun = regexp.MustCompile(`^(\d+) on \(mostly ([^)]*)\): (.*)$`)
)

// tierLabel names a tier as an operator knows it: its model without the
// maker's brand, and the firmware when the tier name carries it
// ("S19 XP (braiins)").
func tierLabel(t *site.Tier) string {
	model := strings.TrimSpace(t.Model)
	for _, brand := range []string{"antminer ", "bitmain ", "whatsminer ", "microbt ", "avalon "} {
		if len(model) > len(brand) && strings.EqualFold(model[:len(brand)], brand) {
			model = model[len(brand):]
			break
		}
	}
	if model == "" {
		return t.Name
	}
	if i := strings.LastIndexByte(t.Name, '-'); i >= 0 && i < len(t.Name)-1 {
		return model + " (" + t.Name[i+1:] + ")"
	}
	return model
}

// operatorReason rewrites one policy reason for the decision log.
func operatorReason(s *site.Site, r dispatch.Reason) string {
	subject := r.Subject
	var tier *site.Tier
	for i := range s.Tiers {
		if s.Tiers[i].Name == r.Subject {
			tier = &s.Tiers[i]
			subject = tierLabel(tier)
		}
	}
	switch {
	case r.Code == "forecast":
		return "Forecast: " + r.Detail
	case r.Code == dispatch.CodeAIFirst:
		return "AI work is placed before miners"
	case tier != nil && r.Code == dispatch.CodeRun:
		m := reRun.FindStringSubmatch(r.Detail)
		if m == nil {
			break
		}
		n, _ := strconv.Atoi(m[1])
		what := fmt.Sprintf("%d of %d hashing", n, tier.Count)
		if n >= tier.Count {
			what = fmt.Sprintf("all %d hashing", n)
		}
		if len(tier.Profiles) > 1 {
			what += " (mostly at " + m[2] + ")"
		}
		return fmt.Sprintf("%s: %s → %s", subject, m[3], what)
	case tier != nil && r.Code == dispatch.CodeSleep:
		return fmt.Sprintf("%s: %s → all %d asleep", subject, r.Detail, tier.Count)
	}
	return fmt.Sprintf("%s: %s (%s)", subject, r.Detail, strings.ReplaceAll(r.Code, "-", " "))
}
