package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/password"
	"github.com/leadcycle/leadcycle/store/sqldb"
)

const userUsage = `Usage:
  leadcycle user create --email EMAIL --name NAME --role ROLE [--password-stdin] [--data DIR | --database URL]
  leadcycle user set-password --email EMAIL [--password-stdin] [--data DIR | --database URL]

Roles: admin, marketer, telesales, sales, sales_manager, readonly.
Without --password-stdin a strong password is generated and printed alone on the last line;
only its argon2id hash is stored. Setting a password ends the user's sessions.
`

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	return dispatch(ctx, "user", userUsage, map[string]command{"create": userCreate, "set-password": userSetPassword}, args, stdout, stderr, getenv)
}

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

func userCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("user create", "user create --email EMAIL --name NAME --role ROLE [--password-stdin]", stderr, getenv)
	email := fs.String("email", "", "the user's email, used to log in (required)")
	name := fs.String("name", "", "the user's name (required)")
	role := fs.String("role", "", "admin, marketer, telesales, sales, sales_manager or readonly (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	u := &leadcycle.User{Email: *email, Name: *name, Role: *role, Active: true}
	u.Normalize()
	if err := u.Validate(); err != nil {
		return flagErrors(stderr, "user create", err)
	}
	secret, generated, err := newPassword(*fromStdin, u)
	if err != nil {
		return err
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Users().Create(ctx, u); err != nil {
		return err
	}
	if err := storePassword(ctx, store, u.ID, secret); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created user %s (%s, role %s) in %s.\n", u.ID, u.Email, u.Role, db.describe())
	if generated {
		fmt.Fprintf(stdout, "Its password is shown only once; give it to %s safely:\n%s\n", u.Name, secret)
	}
	return nil
}

func userSetPassword(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("user set-password", "user set-password --email EMAIL [--password-stdin]", stderr, getenv)
	email := fs.String("email", "", "the user's email (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	c, err := store.Logins().Credentials(ctx, *email)
	if err != nil {
		return fmt.Errorf("--email %s: %s", *email, leadcycle.ErrorMessage(err))
	}
	secret, generated, err := newPassword(*fromStdin, &c.User)
	if err != nil {
		return err
	}
	if err := storePassword(ctx, store, c.User.ID, secret); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Set the password of user %s (%s); its sessions have ended.\n", c.User.ID, c.User.Email)
	if generated {
		fmt.Fprintf(stdout, "The new password is shown only once:\n%s\n", secret)
	}
	return nil
}

// newPassword reads the password from stdin, checked, or generates one.
func newPassword(fromStdin bool, u *leadcycle.User) (secret string, generated bool, err error) {
	if !fromStdin {
		return rand.Text(), true, nil // 26 base32 characters: 130 bits
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", false, fmt.Errorf("read the password: %w", err)
	}
	secret = strings.TrimRight(line, "\r\n")
	if err := password.Check(secret, u.Email, u.Name); err != nil {
		return "", false, fmt.Errorf("--password-stdin: %w", err)
	}
	return secret, false, nil
}

func storePassword(ctx context.Context, store *sqldb.Store, id leadcycle.ID, secret string) error {
	hash, err := password.Hash(secret, password.Default)
	if err != nil {
		return err
	}
	return store.Logins().SetPassword(ctx, id, hash, true)
}
