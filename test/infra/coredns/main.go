// aiot-coredns: CoreDNS with only the plugins the test cluster's Corefile uses (the cluster DNS
// of a K3s node, without forwarding: nothing may leave the machine). This is CoreDNS's documented
// way to choose plugins at compile time: the plugins are the packages the main imports; the
// order they run in is core/dnsserver's directive list, not the order below.
package main

import (
	_ "github.com/coredns/coredns/core/dnsserver" // the DNS server type
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
)

func main() {
	coremain.Run()
}
