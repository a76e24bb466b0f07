// gosplit: goroutines split their CPU time 2:1 between main.burnA and main.burnB, and
// spend a little in C (cburn, called through cgo). Each worker is locked to its thread
// and measures, with the thread's CPU clock, the time each function took: the truth the
// profile is checked against. Printed as one JSON line on stdout.
//
// With -hash, main.hashB (SHA-256 through crypto/sha256's assembly) takes burnB's place.
//
// usage: gosplit [-dur S | -cpu S] [-workers N] [-cpuprofile FILE] [-exit N] [-alloc] [-hash]
package main

/*
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
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// threadCPU is this thread's CPU time in ns: a raw system call, so that measuring costs
// next to nothing (a cgo call's scheduler work, counted in every interval, made the
// measured shares drift toward equal).
func threadCPU() int64 {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID,
		uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

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

var hashBuf = make([]byte, 4096)

// hashB hashes about n bytes. Go 1.19's crypto/sha256.block (its AVX2 assembly) uses rbp as
// a scratch register: frame pointers cannot walk out of it (golang/go#63508), Go's own
// frame-size tables can.
//
//go:noinline
func hashB(n int) uint64 {
	var x uint64
	for i := 0; i <= n/len(hashBuf); i++ {
		hashBuf[0] = byte(i)
		h := sha256.Sum256(hashBuf)
		x += uint64(h[0])
	}
	return x
}

type spent struct{ A, B, C int64 }

var keep [][]byte

// allocate makes 64 KB slices until stop is closed: the runtime then works on the system
// stack (runtime.systemstack: span allocation, GC marking, scavenging).
//
//go:noinline
func allocate(stop chan struct{}, done *sync.WaitGroup) {
	defer done.Done()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		b := make([]byte, 64<<10)
		b[0] = byte(i)
		if i%64 == 0 {
			keep = append(keep[:0], b)
		}
	}
}

// worker burns until the deadline, or, with cpuNs > 0, until its thread has used that much
// CPU time (a run then samples the same amount of work however loaded the machine is).
func worker(deadline time.Time, cpuNs int64, hash bool, out *spent, wg *sync.WaitGroup) {
	defer wg.Done()
	runtime.LockOSThread()
	// Lengths vary at random (1x to 8x), so that the loop has no period for the
	// profiler's ticks to fall into step with: a fixed period made whole runs sample
	// one function.
	const chunk = 40000
	var s spent
	var acc uint64
	rnd := uint64(time.Now().UnixNano()) | 1
	start := threadCPU()
	for {
		if cpuNs > 0 && threadCPU()-start >= cpuNs ||
			cpuNs <= 0 && !time.Now().Before(deadline) {
			break
		}
		rnd ^= rnd << 13
		rnd ^= rnd >> 7
		rnd ^= rnd << 17
		k := int(1 + rnd%8)
		t0 := threadCPU()
		acc += burnA(2 * k * chunk)
		t1 := threadCPU()
		if hash {
			acc += hashB(4 * k * chunk)
		} else {
			acc += burnB(k * chunk)
		}
		t2 := threadCPU()
		acc += uint64(C.cburn(C.uint(k * chunk)))
		t3 := threadCPU()
		s.A += t1 - t0
		s.B += t2 - t1
		s.C += t3 - t2
	}
	sink += acc
	*out = s
}

func main() {
	dur := flag.Float64("dur", 0.5, "seconds of wall time")
	cpu := flag.Float64("cpu", 0, "seconds of CPU time per worker (instead of -dur)")
	workers := flag.Int("workers", 3, "goroutines")
	cpuprofile := flag.String("cpuprofile", "", "write Go's own CPU profile here")
	exit := flag.Int("exit", 0, "exit status")
	alloc := flag.Bool("alloc", false, "a goroutine allocates meanwhile (work on the system stack)")
	hash := flag.Bool("hash", false, "main.hashB (crypto/sha256) instead of main.burnB")
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
		go worker(deadline, int64(*cpu*1e9), *hash, &res[i], &wg)
	}
	stop := make(chan struct{})
	var allocWG sync.WaitGroup
	if *alloc {
		allocWG.Add(1)
		go allocate(stop, &allocWG)
	}
	wg.Wait()
	close(stop)
	allocWG.Wait()
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
