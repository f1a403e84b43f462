package store

import (
	"context"
	"time"
)

// Clock is a Store with a clock of its own that every server on it shares (the Redis store's
// TIME), so that servers whose clocks differ agree on an app's time. A send reads it in
// Store.Lookup (Lookup.Now); the steps outside a send that take the time (a token the token endpoint issues, a
// user message that opens a window, an app's clock in the admin API) read it through AppNow.
type Clock interface {
	// AppNow answers the store's time plus app's clock offset.
	AppNow(ctx context.Context, app App) (time.Time, error)
}

// AppNow is app's clock: on s's own clock when s is a Clock, else now (the server's clock)
// plus the app's offset. The time is in now's location.
func AppNow(ctx context.Context, s Store, app App, now time.Time) (time.Time, error) {
	c, ok := s.(Clock)
	if !ok {
		return app.Now(now), nil
	}
	t, err := c.AppNow(ctx, app)
	if err != nil {
		return time.Time{}, err
	}
	return t.In(now.Location()), nil
}
