// gosplit: goroutines split their CPU time 2:1 between main.burnA and main.burnB, and
// spend a little in C (cburn, called through cgo). Each worker is locked to its thread
// and measures, with the thread's CPU clock, the time each function took: the truth the
// profile is checked against. Printed as one JSON line on stdout.
//
// usage: gosplit [-dur SECONDS] [-workers N] [-cpuprofile FILE] [-exit N]
package main

/*
#include <time.h>

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Spins for about n iterations; the profile must reach it through cgo's stack switch.
__attribute__((noinline)) static unsigned cburn(unsigned n)
{
	volatile unsigned x = 0;
	for (unsigned i = 0; i < n; i++)
		x += i * i;
	return x;
}
*/
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

var sink uint64

// mix is small enough to be inlined into its callers: DWARF records it as an inlined
// subroutine of burnA.
func mix(x, i uint64) uint64 {
	return x*6364136223846793005 + i ^ (x >> 29)
}

//go:noinline
func burnA(n int) uint64 {
	x := uint64(n)
	for i := 0; i < n; i++ {
		x = mix(x, uint64(i))
	}
	return x
}

//go:noinline
func burnB(n int) uint64 {
	x := uint64(n)
	for i := 0; i < n; i++ {
		x = x*2862933555777941757 + 3037000493
	}
	return x
}

type spent struct{ A, B, C int64 }

func worker(deadline time.Time, out *spent, wg *sync.WaitGroup) {
	defer wg.Done()
	runtime.LockOSThread()
	const chunk = 20000
	var s spent
	var acc uint64
	for i := 0; time.Now().Before(deadline); i++ {
		t0 := int64(C.thread_cpu_ns())
		acc += burnA(2 * chunk)
		t1 := int64(C.thread_cpu_ns())
		acc += burnB(chunk)
		t2 := int64(C.thread_cpu_ns())
		s.A += t1 - t0
		s.B += t2 - t1
		if i%8 == 0 {
			acc += uint64(C.cburn(C.uint(chunk)))
			s.C += int64(C.thread_cpu_ns()) - t2
		}
	}
	sink += acc
	*out = s
}

func main() {
	dur := flag.Float64("dur", 0.5, "seconds of wall time")
	workers := flag.Int("workers", 3, "goroutines")
	cpuprofile := flag.String("cpuprofile", "", "write Go's own CPU profile here")
	exit := flag.Int("exit", 0, "exit status")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	deadline := time.Now().Add(time.Duration(*dur * float64(time.Second)))
	res := make([]spent, *workers)
	var wg sync.WaitGroup
	for i := range res {
		wg.Add(1)
		go worker(deadline, &res[i], &wg)
	}
	wg.Wait()
	var tot spent
	for _, s := range res {
		tot.A += s.A
		tot.B += s.B
		tot.C += s.C
	}
	b, _ := json.Marshal(map[string]int64{"burnA_ns": tot.A, "burnB_ns": tot.B, "cburn_ns": tot.C})
	fmt.Println(string(b))
	if *exit != 0 {
		if *cpuprofile != "" {
			pprof.StopCPUProfile()
		}
		os.Exit(*exit)
	}
}
