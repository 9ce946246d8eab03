package plan
import ("testing";"fmt")
func TestZZ(t *testing.T){
  for _, rent := range []float64{0.3e6, 0.4e6, 0.5e6, 0.6e6, 0.8e6} {
  for _, ex := range []float64{8, 12} {
    for p:=0;p<40;p++ {
    c:=tiny(); c.Switch.Target="lease"; c.Lease.RentPerMWYear=rent; c.Lease.ExitMultiple=ex; c.BTC.Drift=-2
    d,_:=Detail(c,nil,1,p)
    if p==0 { fmt.Println("det", rent, ex, d.SwitchMonth) }
    c.BTC.Volatility=0.8
    d,_=Detail(c,nil,1,p)
    if d.SwitchMonth>0 && d.SwitchMonth<18 { fmt.Println(rent, ex, p, d.SwitchMonth); break }
  }}}
}
