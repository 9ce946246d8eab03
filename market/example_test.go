package market_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jouleworks/joule/market"
)

func ExampleHashprice() {
	// 2025-12-29 from shared/data/btc_daily_fees_2023_2025.csv.
	hp := market.Hashprice(150055528536302, market.SubsidyAt(time.Date(2025, 12, 29, 12, 0, 0, 0, time.UTC)), 0.018222, 87133.51)
	fmt.Printf("%.6f $/TH/day = %.2f $/PH/day\n", hp, hp*1000)
	// Output: 0.036717 $/TH/day = 36.72 $/PH/day
}

func ExampleReadPrices() {
	// The repeated hour of the 2024-11-03 fall-back day, ERCOT's current layout.
	in := `DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag
11/03/2024,2,1,HB_NORTH,HU,21.50,N
11/03/2024,2,1,HB_NORTH,HU,-3.10,Y
11/03/2024,2,1,HB_WEST,HU,19.00,N
`
	_, err := market.ReadPrices(strings.NewReader(in), "rt.csv", market.PriceOptions{})
	fmt.Println(errors.Is(err, market.ErrMultiplePoints), err)

	s, err := market.ReadPrices(strings.NewReader(in), "rt.csv", market.PriceOptions{SettlementPoint: "hb_north"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, v := range s.Values {
		fmt.Println(s.At(i).Format(time.RFC3339), v)
	}
	fmt.Println(s.Filled, s.Notes)
	// Output:
	// true rt.csv: file holds several settlement points: HB_NORTH, HB_WEST; choose one with --settlement-point
	// 2024-11-03T06:00:00Z 21.5
	// 2024-11-03T06:15:00Z 21.5
	// 2024-11-03T06:30:00Z 21.5
	// 2024-11-03T06:45:00Z 21.5
	// 2024-11-03T07:00:00Z -3.1
	// 3 [3 missing intervals in 1 gap was filled with the previous interval's value (longest 45m0s from 2024-11-03T06:15:00Z)]
}

func ExampleGenerate() {
	sc := market.Generate(1, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 365)
	fmt.Println(sc.Prices.Len(), sc.Prices.Step, sc.SystemLoad.Len(), sc.Hashprice.Len(), len(market.FourCP(sc.SystemLoad)))
	// Output: 35040 15m0s 8760 365 4
}
