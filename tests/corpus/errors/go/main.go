// Command shop runs the scenarios named on standard input and logs each failure with zap (JSON).
package main

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"strconv"

	"go.uber.org/zap"

	"shop/api"
)

func main() {
	seed, _ := strconv.ParseInt(os.Args[1], 10, 64)
	rng := rand.New(rand.NewSource(seed))
	config := zap.NewProductionConfig()
	config.Sampling = nil // every failure logged, not the first 100 a second
	log, err := config.Build()
	if err != nil {
		panic(err)
	}
	defer func() { _ = log.Sync() }()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		r := api.Request{
			Scenario: in.Text(),
			Card:     fmt.Sprintf("4%014d2", rng.Int63n(1e14)),
			ID:       3 + rng.Intn(9000),
			User:     fmt.Sprintf("u-%d", 1+rng.Intn(40)),
		}
		switch r.Scenario {
		case "atoi_error":
			r.Text = fmt.Sprintf("x%d", rng.Intn(999))
		case "json_error":
			r.Text = fmt.Sprintf("{\"qty\": %d, x}", rng.Intn(99))
		default:
			r.Text = fmt.Sprintf("key-%d", rng.Intn(999))
		}
		api.Serve(log, r)
	}
}
