// Package orders fails the way Go code fails: an index out of range, a nil map, a missing order.
package orders

import "fmt"

// Remembered is the cache a caller forgot to make.
var Remembered map[string]int

// Lookup returns the i-th item; a wrong index panics.
func Lookup(items []string, i int) string {
	return items[i]
}

// Remember writes to the cache.
func Remember(key string, value int) {
	Remembered[key] = value
}

// Get finds an order by id.
func Get(id int) (string, error) {
	return "", fmt.Errorf("order %d not found", id)
}
