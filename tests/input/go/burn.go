// burn.go - the Go workload of the pprof tests: hotA takes 2/3 of the CPU, hotB 1/3
// (loop counts), each under a pprof label "part"; hotB calls spin through viaInline,
// which Go inlines. Modes:
//   burn file OUT.pprof        profile itself with runtime/pprof for 3 s, write OUT.pprof
//   burn serve PORTFILE SECS   serve net/http/pprof on 127.0.0.1 (port written to
//                              PORTFILE), burning CPU, for SECS seconds, then exit
package main

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

var sink float64

//go:noinline
func spin(n int) {
	x := 0.0
	for i := 0; i < n; i++ {
		x += math.Sqrt(float64(i) + x)
	}
	sink += x
}

//go:noinline
func hotA() { spin(2000000) }

// viaInline is small enough for the compiler to inline into hotB: its frame in the
// profile is an inlined line of hotB's location.
func viaInline(n int) { spin(n) }

//go:noinline
func hotB() { viaInline(1000000) }

func round() {
	pprof.Do(context.Background(), pprof.Labels("part", "a"), func(context.Context) { hotA() })
	pprof.Do(context.Background(), pprof.Labels("part", "b"), func(context.Context) { hotB() })
}

func burnFor(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		round()
	}
}

func main() {
	switch os.Args[1] {
	case "file":
		f, err := os.Create(os.Args[2])
		if err != nil {
			panic(err)
		}
		pprof.StartCPUProfile(f)
		burnFor(3 * time.Second)
		pprof.StopCPUProfile()
		f.Close()
	case "serve":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		secs, _ := strconv.Atoi(os.Args[3])
		os.WriteFile(os.Args[2], []byte(fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)), 0644)
		go http.Serve(ln, nil)
		burnFor(time.Duration(secs) * time.Second)
	}
}
