// gostatic: a pure-Go program (built with CGO_ENABLED=0: statically linked, so LD_PRELOAD
// cannot reach it). Burns a little CPU, prints a line, exits with the status asked.
//
// usage: gostatic [STATUS]
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	x := uint64(1)
	for i := 0; i < 20000000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	fmt.Println("gostatic", x%10)
	if len(os.Args) > 1 {
		n, _ := strconv.Atoi(os.Args[1])
		os.Exit(n)
	}
}
