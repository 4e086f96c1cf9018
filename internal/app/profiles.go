package app

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"time"
)

// startProfiles writes a CPU profile to $NETWORKFEED_CPUPROFILE, an execution trace to
// $NETWORKFEED_TRACE, at exit a heap profile to $NETWORKFEED_MEMPROFILE (what was
// allocated), and to $NETWORKFEED_PEAKPROFILE the heap profile taken when the live heap
// was largest (what was held at the peak: see peakProfiles). For scripts/bench-fleet.sh;
// go tool pprof and go tool trace read them.
func startProfiles(env Env, stderr io.Writer) (stop func()) {
	cpuPath, memPath, tracePath, peakPath := env("NETWORKFEED_CPUPROFILE"), env("NETWORKFEED_MEMPROFILE"), env("NETWORKFEED_TRACE"), env("NETWORKFEED_PEAKPROFILE")
	if cpuPath == "" && memPath == "" && tracePath == "" && peakPath == "" {
		return nil
	}
	stopTrace := record(tracePath, "trace", trace.Start, trace.Stop, stderr)
	stopCPU := record(cpuPath, "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile, stderr)
	stopPeak := peakProfiles(peakPath, 100*time.Millisecond, stderr)
	return func() {
		stopPeak()
		stopCPU()
		stopTrace()
		if memPath != "" {
			f, err := os.Create(memPath)
			if err == nil {
				runtime.GC()
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(stderr, "networkfeed: heap profile: %v\n", err)
			}
		}
	}
}

// peakProfiles looks at the live heap (as the last collection found it) every interval
// and, each time it is larger than ever by a tenth, writes the heap profile to path, over
// the one before: the file left holds the profile of the largest live heap seen, the
// collection it comes from. Nothing is started when path is empty.
func peakProfiles(path string, interval time.Duration, stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			live := sample[0].Value.Uint64()
			if live <= peak+peak/10 {
				continue
			}
			peak = live
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(stderr, "networkfeed: peak heap profile: %v\n", err)
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// writeHeapProfile writes the heap profile of the last collection to path.
func writeHeapProfile(path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = pprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}

// record starts writing a profile or trace to path with start, reporting a failure to
// stderr as what; the stop it returns ends it with end and closes the file. Nothing is
// started when path is empty.
func record(path, what string, start func(io.Writer) error, end func(), stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = start(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "networkfeed: %s: %v\n", what, err)
		return func() {}
	}
	return func() {
		end()
		f.Close()
	}
}
