// Command gobench is the Go side of chanlab's runtime benchmarks: the same
// workloads as bench/*.c, written the way a Go programmer would write them,
// so that bench/run can print C and Go side by side. Standard library only.
//
// Usage: gobench WORKLOAD ITERS
//
// It prints one line, "WORKLOAD go iters=N ns/op=X", where an op is what the
// workload counts (a round trip, an item, a select, a task, an op pair, a
// nonblocking select). GOMAXPROCS is taken from the environment; pinning is
// done from outside with taskset (goroutines cannot be pinned one by one).
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// maxTasks bounds spawn's count, as in bench/spawn.c.
const maxTasks = 1000000

type workload struct {
	name string
	desc string
	run  func(n int) time.Duration // runs n ops and returns the time they took
}

var workloads = []workload{
	{"pingpong", "round trip over two unbuffered channels", pingpong},
	{"buffered", "one producer, one consumer, cap 1024 (per item)", buffered},
	{"select", "select over two unbuffered channels fed by two senders", selectTwo},
	{"spawn", "spawn n goroutines and join them with a WaitGroup (per task)", spawn},
	{"sendrecv", "send with room + receive on a cap-1 channel, same goroutine", sendrecv},
	{"selectdefault", "select with default on two empty channels", selectDefault},
}

// warmup is the untimed share of a run: the same loop, a tenth as long,
// capped so that short runs stay short. The C programs use the same rule.
func warmup(n int) int {
	w := n / 10
	if w > 100000 {
		w = 100000
	}
	return w
}

func pingpong(n int) time.Duration {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	round := func(k int) {
		for i := 0; i < k; i++ {
			ping <- i
			if v := <-pong; v != i+1 {
				fail("pingpong: sent %d, got back %d", i, v)
			}
		}
	}
	round(warmup(n))
	start := time.Now()
	round(n)
	d := time.Since(start)
	close(ping)
	<-pong
	return d
}

func buffered(n int) time.Duration {
	transfer := func(k int) time.Duration {
		c := make(chan int, 1024)
		start := time.Now()
		go func() {
			for i := 0; i < k; i++ {
				c <- i
			}
			close(c)
		}()
		want := 0
		for v := range c {
			if v != want {
				fail("buffered: want %d, got %d", want, v)
			}
			want++
		}
		if want != k {
			fail("buffered: received %d of %d", want, k)
		}
		return time.Since(start)
	}
	transfer(warmup(n))
	return transfer(n)
}

func selectTwo(n int) time.Duration {
	multiplex := func(k int) time.Duration {
		a, b := make(chan int), make(chan int)
		feed := func(c chan<- int, m int) {
			for i := 0; i < m; i++ {
				c <- i
			}
			close(c)
		}
		start := time.Now()
		go feed(a, k/2)
		go feed(b, k-k/2)
		got := 0
		for a != nil || b != nil {
			select {
			case _, ok := <-a:
				if !ok {
					a = nil
					continue
				}
				got++
			case _, ok := <-b:
				if !ok {
					b = nil
					continue
				}
				got++
			}
		}
		if got != k {
			fail("select: received %d of %d", got, k)
		}
		return time.Since(start)
	}
	multiplex(warmup(n))
	return multiplex(n)
}

func spawn(n int) time.Duration {
	run := func(k int) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		wg.Add(k)
		for i := 0; i < k; i++ {
			go wg.Done()
		}
		wg.Wait()
		return time.Since(start)
	}
	w := warmup(n)
	if w > 1000 {
		w = 1000
	}
	run(w)
	return run(n)
}

func sendrecv(n int) time.Duration {
	c := make(chan int, 1)
	loop := func(k int) {
		for i := 0; i < k; i++ {
			c <- i
			if v := <-c; v != i {
				fail("sendrecv: sent %d, got %d", i, v)
			}
		}
	}
	loop(warmup(n))
	start := time.Now()
	loop(n)
	return time.Since(start)
}

func selectDefault(n int) time.Duration {
	a, b := make(chan int), make(chan int)
	loop := func(k int) {
		for i := 0; i < k; i++ {
			select {
			case <-a:
				fail("selectdefault: received from an empty channel")
			case <-b:
				fail("selectdefault: received from an empty channel")
			default:
			}
		}
	}
	loop(warmup(n))
	start := time.Now()
	loop(n)
	return time.Since(start)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gobench: "+format+"\n", args...)
	os.Exit(1)
}

func usage(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gobench: "+format+" (usage: gobench WORKLOAD ITERS; WORKLOAD is one of", args...)
	for _, w := range workloads {
		fmt.Fprintf(os.Stderr, " %s", w.name)
	}
	fmt.Fprintln(os.Stderr, ")")
	os.Exit(2)
}

func main() {
	if len(os.Args) != 3 {
		usage("want 2 arguments, got %d", len(os.Args)-1)
	}
	var w *workload
	for i := range workloads {
		if workloads[i].name == os.Args[1] {
			w = &workloads[i]
		}
	}
	if w == nil {
		usage("unknown workload %q", os.Args[1])
	}
	// Digits only: no sign, no spaces, no hex, as the C programs accept.
	arg := os.Args[2]
	n, err := strconv.ParseUint(arg, 10, 32)
	if err != nil || n == 0 || arg[0] < '0' || arg[0] > '9' {
		usage("bad iteration count %q: want an integer from 1 to 4294967295", arg)
	}
	if w.name == "spawn" && n > maxTasks {
		usage("bad iteration count %q: at most %d tasks", arg, maxTasks)
	}
	d := w.run(int(n))
	fmt.Printf("%s go iters=%d ns/op=%.1f\n", w.name, n, float64(d.Nanoseconds())/float64(n))
}
