// Package api runs requests: panics are recovered and logged with the goroutine's stack, returned
// errors are logged by one handler (zap adds its call site's stacktrace at error level).
package api

import (
	"encoding/json"
	"runtime/debug"
	"strconv"

	"go.uber.org/zap"

	"shop/orders"
	"shop/payments"
	"shop/users"
)

// Request is one scenario with its random values.
type Request struct {
	Scenario string
	Card     string
	ID       int
	Text     string
	User     string
}

// Serve runs one request and logs its failure.
func Serve(log *zap.Logger, r Request) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic recovered", zap.Any("panic", p), zap.String("stack", string(debug.Stack())),
				zap.String("service", "shop-go"), zap.String("user_id", r.User))
		}
	}()
	if err := run(r); err != nil {
		log.Error("request failed", zap.Error(err), zap.String("service", "shop-go"), zap.String("user_id", r.User))
	}
}

func run(r Request) error {
	switch r.Scenario {
	case "index_panic":
		orders.Lookup([]string{"a", "b"}, r.ID)
	case "nil_map":
		orders.Remember(r.Text, r.ID)
	case "declined_panic":
		payments.MustCharge(r.Card, r.ID)
	case "nil_pointer":
		_ = users.Name(nil)
	case "atoi_error":
		_, err := ParseQuantity(r.Text)
		return err
	case "not_found_error":
		_, err := orders.Get(r.ID)
		return err
	case "json_error":
		return Decode(r.Text)
	}
	return nil
}

// ParseQuantity reads a quantity.
func ParseQuantity(text string) (int, error) {
	return strconv.Atoi(text)
}

// Decode reads a request body.
func Decode(body string) error {
	var v map[string]any
	return json.Unmarshal([]byte(body), &v)
}
