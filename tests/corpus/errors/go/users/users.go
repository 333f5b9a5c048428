// Package users dereferences a user that was never loaded.
package users

// User is a signed-in user.
type User struct {
	Name string
}

// Name returns the user's name.
func Name(u *User) string {
	return u.Name
}
