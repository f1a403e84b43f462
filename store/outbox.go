package store

import (
	"context"
	"time"
)

// Outbox is the store's queue of push deliveries, shared by every replica on the store: the API
// core enqueues a delivery job (opaque bytes), each replica claims jobs with a lease, delivers
// them and finishes them. A job whose lease expires (its replica died or stalled) is claimed again
// by another consumer, so no job is lost; while a lease holds, no other consumer gets the job.
// Like Pusher it is a separate interface that the API core finds with a type assertion. The
// outbox survives Reset (a reset forgets apps, not deliveries in flight).
type Outbox interface {
	// Enqueue adds a job and returns its id, unique on the store.
	Enqueue(ctx context.Context, job []byte) (id string, err error)
	// Claim leases up to max jobs to consumer for lease: first jobs whose lease expired (Claims
	// grows), then jobs never claimed, oldest first. None is not an error. Every consumer of one
	// store uses the same lease: on Redis, the claimer's lease judges whether a lease expired.
	Claim(ctx context.Context, consumer string, lease time.Duration, max int) ([]Claimed, error)
	// Extend renews consumer's lease on job id for lease; it reports false when consumer no
	// longer holds it (the lease expired and another consumer claimed it, or it was finished).
	Extend(ctx context.Context, consumer, id string, lease time.Duration) (bool, error)
	// Release gives up consumer's lease on id at once: any consumer may claim the job now. A
	// job consumer does not hold is left alone.
	Release(ctx context.Context, consumer, id string) error
	// Finish removes job id from the outbox and keeps result under its id for keep, so that
	// whoever waits for it (on any replica) reads it with Result. Finishing twice is harmless.
	Finish(ctx context.Context, id string, result []byte, keep time.Duration) error
	// Result returns the result of a finished job, while it is kept.
	Result(ctx context.Context, id string) (result []byte, ok bool, err error)
	// OutboxDepth returns how many jobs are enqueued and not finished, claimed or not.
	OutboxDepth(ctx context.Context) (int, error)
}

// Claimed is a job leased to a consumer by Outbox.Claim.
type Claimed struct {
	// ID is the job's id.
	ID string
	// Job is what Enqueue was given.
	Job []byte
	// Claims counts the claims of the job, this one included: 1 the first time, more after a
	// lease expired or was released (at least 2 then; a store may count a renewal too).
	Claims int
}
