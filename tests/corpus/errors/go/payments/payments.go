// Package payments panics with an error value when a card is declined.
package payments

// Declined is a declined card.
type Declined struct {
	Card   string
	Amount int
}

func (d Declined) Error() string {
	return "card " + d.Card + " declined"
}

// MustCharge charges a card or panics.
func MustCharge(card string, amount int) {
	if card[len(card)-1] == '2' {
		panic(Declined{card, amount})
	}
}
