// Command measure runs a command several times and prints, as one JSON
// line, its median and minimum wall time, its peak resident memory, and how
// many requests the API server received per run (from the server's own
// apiserver_request_total counter, so nothing in the measured program is
// trusted to count itself).
//
//	measure -n 5 -kubeconfig KUBECONFIG -- cozyhr diff
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type result struct {
	MedianSeconds float64 `json:"median_s"`
	MinSeconds    float64 `json:"min_s"`
	MaxRSSKB      int64   `json:"max_rss_kb"`
	Requests      float64 `json:"requests_per_run,omitempty"`
	Runs          int     `json:"runs"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 5, "runs")
	kubeconfig := flag.String("kubeconfig", "", "count API requests on this cluster")
	allowExit := flag.String("ok-exit", "0", "comma-separated exit codes that count as success")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		return fmt.Errorf("usage: measure [-n N] [-kubeconfig F] -- command args")
	}
	okExit := map[int]bool{}
	for _, s := range strings.Split(*allowExit, ",") {
		c, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		okExit[c] = true
	}
	var cs *kubernetes.Clientset
	if *kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
		if err != nil {
			return err
		}
		if cs, err = kubernetes.NewForConfig(cfg); err != nil {
			return err
		}
	}
	var before float64
	if cs != nil {
		var err error
		if before, err = requestTotal(cs); err != nil {
			return err
		}
	}
	var times []float64
	var rss int64
	for range *n {
		cmd := exec.Command(args[0], args[1:]...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		elapsed := time.Since(start).Seconds()
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok || !okExit[ee.ExitCode()] {
				return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
		}
		times = append(times, elapsed)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > rss {
			rss = ru.Maxrss
		}
	}
	res := result{Runs: *n, MaxRSSKB: rss}
	sort.Float64s(times)
	res.MedianSeconds, res.MinSeconds = times[len(times)/2], times[0]
	if cs != nil {
		after, err := requestTotal(cs)
		if err != nil {
			return err
		}
		// The two metric reads themselves are requests too.
		res.Requests = (after - before - 1) / float64(*n)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// requestTotal sums apiserver_request_total over all label sets.
func requestTotal(cs *kubernetes.Clientset) (float64, error) {
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		return 0, fmt.Errorf("read apiserver metrics: %w", err)
	}
	var total float64
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			total += v
		}
	}
	return total, sc.Err()
}
