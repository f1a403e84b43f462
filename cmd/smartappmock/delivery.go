package main

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/smartappmock/smartappmock/mockserver"
)

// deliveryDrain is how long the push deliveries in flight get to finish at shutdown before they
// are canceled (each attempt journaled, its push left in the outbox): inside shutdownGrace, so
// that the admin callers waiting for them are answered before their connections are closed.
const deliveryDrain = shutdownGrace - time.Second

// deliveryFlags are the settings of the replica's push delivery loop (mockserver.DeliveryOptions).
type deliveryFlags struct {
	workers, maxQueue int
	lease             time.Duration
}

// register adds the flags to fs, their defaults from the environment.
func (d *deliveryFlags) register(fs *flag.FlagSet, getenv func(string) string) error {
	var err error
	if d.workers, err = envInt(getenv, "SMARTAPPMOCK_PUSH_WORKERS", mockserver.DefaultDeliveryWorkers); err != nil {
		return err
	}
	if d.maxQueue, err = envInt(getenv, "SMARTAPPMOCK_PUSH_MAX_QUEUE", mockserver.DefaultMaxQueue); err != nil {
		return err
	}
	d.lease = mockserver.DefaultLease
	if s := getenv("SMARTAPPMOCK_PUSH_LEASE"); s != "" {
		if d.lease, err = time.ParseDuration(s); err != nil || d.lease < time.Second {
			return usageError{fmt.Sprintf("SMARTAPPMOCK_PUSH_LEASE: %q is not a duration of 1s or more", s)}
		}
	}
	fs.IntVar(&d.workers, "push-workers", d.workers, "push deliveries this replica makes at once (env SMARTAPPMOCK_PUSH_WORKERS)")
	fs.IntVar(&d.maxQueue, "push-max-queue", d.maxQueue, "pushes the outbox may hold before a user's message is refused with 503 (env SMARTAPPMOCK_PUSH_MAX_QUEUE)")
	fs.DurationVar(&d.lease, "push-lease", d.lease, "how long a replica holds a claimed push without renewing it; the same on every replica of a store (env SMARTAPPMOCK_PUSH_LEASE)")
	return nil
}

// check reports a setting out of range.
func (d *deliveryFlags) check() error {
	switch {
	case d.workers < 1 || d.workers > 1024:
		return usageError{fmt.Sprintf("--push-workers: %d; want 1 to 1024", d.workers)}
	case d.maxQueue < 1:
		return usageError{fmt.Sprintf("--push-max-queue: %d; want 1 or more", d.maxQueue)}
	case d.lease < time.Second:
		return usageError{fmt.Sprintf("--push-lease: %s; want 1s or more", d.lease)}
	}
	return nil
}

// options returns the loop's options.
func (d *deliveryFlags) options() mockserver.DeliveryOptions {
	return mockserver.DeliveryOptions{Workers: d.workers, MaxQueue: d.maxQueue, Lease: d.lease}
}

// envInt reads an integer from the environment (def when unset).
func envInt(getenv func(string) string, key string, def int) (int, error) {
	s := getenv(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, usageError{fmt.Sprintf("%s: %q is not an integer", key, s)}
	}
	return n, nil
}
