package mockserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/store"
)

// The outbox: UserWrites and Redeliver put a delivery job in the store (store.Outbox); the
// delivery loop of each replica (StartDelivery) claims jobs with a lease, delivers them with a
// bounded pool of workers, renews the lease while it works, and finishes each job with its
// results, which the caller waiting on any replica reads back. A replica that dies leaves its
// leases to expire: another replica claims the job and delivers it again (a new delivery of the
// same push, same MsgId). Without a delivery loop the core delivers within the call, as before.

// Defaults of DeliveryOptions.
const (
	// DefaultDeliveryWorkers is how many deliveries a replica makes at once.
	DefaultDeliveryWorkers = 8
	// DefaultLease is how long a claimed job stays with its replica without a renewal: longer
	// than a store outage worth waiting for, short enough that a dead replica's pushes go out
	// again soon. The lease is renewed every third of it while the delivery runs.
	DefaultLease = 15 * time.Second
	// DefaultDeliveryPoll is how often an idle replica looks for jobs enqueued by another one.
	DefaultDeliveryPoll = 100 * time.Millisecond
	// DefaultMaxQueue is how many jobs the outbox may hold before a user's message is refused
	// (ErrBusy): back-pressure rather than an unbounded queue.
	DefaultMaxQueue = 10000
	// DefaultResultKeep is how long a finished job's results stay readable by waiting callers.
	DefaultResultKeep = 10 * time.Minute
	// MaxDeliveries bounds the deliveries of one job: a job whose replicas keep dying mid-way
	// (a poison job) is given up after that many claims, as failed.
	MaxDeliveries = 5
)

// ErrBusy is the code of a message refused because the outbox is full (DeliveryOptions.MaxQueue).
const ErrBusy ErrorCode = "busy"

// DeliveryOptions configure a replica's delivery loop. The zero value takes every default.
type DeliveryOptions struct {
	// Workers is how many deliveries run at once on this replica (DefaultDeliveryWorkers).
	Workers int
	// Lease is how long a claimed job stays with this replica without a renewal (DefaultLease).
	// Every replica on one store must use the same lease.
	Lease time.Duration
	// Poll is how often an idle replica looks for jobs enqueued elsewhere (DefaultDeliveryPoll).
	Poll time.Duration
	// MaxQueue is how many jobs the outbox may hold before UserWrites answers ErrBusy
	// (DefaultMaxQueue).
	MaxQueue int
	// Replica names this replica in the outbox and the journal (default: host-pid-random).
	Replica string
}

// Delivery is a replica's delivery loop (Server.StartDelivery). Its methods are safe for
// concurrent use.
type Delivery struct {
	s    *Server
	ob   store.Outbox
	opts DeliveryOptions

	slots    chan struct{} // one per delivery running: the worker pool's bound
	wake     chan struct{} // a job was enqueued here
	stopping chan struct{} // closed by Stop: claim nothing more
	stopped  chan struct{} // closed when Stop returns: waiters give up
	hard     context.Context
	cancel   context.CancelFunc // cancels the deliveries in flight (Stop's deadline)
	claiming sync.WaitGroup     // the claim loop
	renewing sync.WaitGroup     // the renew loop
	work     sync.WaitGroup     // the deliveries in flight
	stopOnce sync.Once

	mu      sync.Mutex
	leases  map[string]context.CancelFunc      // jobs in flight -> cancel (lease lost)
	waiters map[string]chan []baidupush.Result // jobs a caller of this replica waits for

	delivered, failed, canceled atomic.Uint64
}

// StartDelivery starts the replica's delivery loop on the store's outbox: from then on
// UserWrites and Redeliver enqueue their pushes, and this replica delivers its share of the
// outbox with a pool of opts.Workers. It fails when the store has no outbox (store.Outbox) or a
// loop already runs. Stop ends it.
func (s *Server) StartDelivery(opts DeliveryOptions) (*Delivery, error) {
	ob, ok := s.store.(store.Outbox)
	if !ok {
		return nil, &Error{Code: ErrUnsupported, Message: fmt.Sprintf("the store (%T) has no outbox (store.Outbox)", s.store)}
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultDeliveryWorkers
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultDeliveryPoll
	}
	if opts.MaxQueue <= 0 {
		opts.MaxQueue = DefaultMaxQueue
	}
	if opts.Replica == "" {
		host, _ := os.Hostname()
		var b [3]byte
		_, _ = rand.Read(b[:])
		opts.Replica = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	d := &Delivery{s: s, ob: ob, opts: opts,
		slots: make(chan struct{}, opts.Workers), wake: make(chan struct{}, 1),
		stopping: make(chan struct{}), stopped: make(chan struct{}),
		leases: map[string]context.CancelFunc{}, waiters: map[string]chan []baidupush.Result{}}
	d.hard, d.cancel = context.WithCancel(context.Background())
	if !s.delivery.CompareAndSwap(nil, d) {
		d.cancel()
		return nil, &Error{Code: ErrInvalid, Message: "a delivery loop already runs on this server"}
	}
	d.claiming.Add(1)
	d.renewing.Add(1)
	go d.claimLoop()
	go d.renewLoop()
	return d, nil
}

// Options returns the loop's settings, defaults filled in.
func (d *Delivery) Options() DeliveryOptions { return d.opts }

// Stop stops claiming jobs, lets the deliveries in flight finish until ctx ends, then cancels
// the ones still running: each attempt is journaled (a cut one as canceled), their callers are
// answered, and their jobs are released to another replica at once (the push is not lost on a
// shared store). The server delivers within the call again afterwards. It returns ctx's error
// when it had to cancel deliveries.
func (d *Delivery) Stop(ctx context.Context) error {
	var err error
	d.stopOnce.Do(func() {
		close(d.stopping)
		d.claiming.Wait() // no delivery starts after this
		done := make(chan struct{})
		go func() { d.work.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
			d.cancel()
			<-done
		}
		d.cancel()
		d.renewing.Wait()
		d.s.delivery.CompareAndSwap(d, nil)
		close(d.stopped)
	})
	return err
}

// Counts returns the deliveries this replica finished, by outcome: delivered (acknowledged),
// failed (every attempt refused) and canceled (cut short by Stop and left to another replica).
func (d *Delivery) Counts() (delivered, failed, canceled uint64) {
	return d.delivered.Load(), d.failed.Load(), d.canceled.Load()
}

// InFlight returns how many deliveries run on this replica now (at most Options().Workers).
func (d *Delivery) InFlight() int { return len(d.slots) }

// QueueDepth returns how many jobs the outbox holds, on every replica together (-1: the store
// did not answer).
func (d *Delivery) QueueDepth() int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, err := d.ob.OutboxDepth(ctx)
	if err != nil {
		return -1
	}
	return n
}

// admit refuses a message while the outbox is full.
func (d *Delivery) admit(ctx context.Context) error {
	n, err := d.ob.OutboxDepth(ctx)
	if err != nil {
		return storeFailed(err)
	}
	if n >= d.opts.MaxQueue {
		return &Error{Code: ErrBusy, Message: fmt.Sprintf("the outbox holds %d pushes (max_queue %d): try again when the bots have caught up", n, d.opts.MaxQueue)}
	}
	return nil
}

// dispatch delivers job: within the call without a delivery loop, else through the outbox,
// waiting for its results (wait) or answering them queued at once.
func (s *Server) dispatch(ctx context.Context, job deliveryJob, wait bool) ([]baidupush.Result, error) {
	d := s.delivery.Load()
	if d == nil {
		run := deliveryRun{delivery: job.DeliveryBase + 1, redelivery: job.Redelivery}
		rs := s.deliverJob(ctx, job, run)
		s.settlePlatform(ctx, job, run, rs)
		return rs, nil
	}
	b, err := json.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("delivery job: %w", err)
	}
	id, err := d.ob.Enqueue(ctx, b)
	if err != nil {
		return nil, storeFailed(err)
	}
	var ch chan []baidupush.Result
	if wait {
		ch = make(chan []baidupush.Result, 1)
		d.mu.Lock()
		d.waiters[id] = ch
		d.mu.Unlock()
		defer func() {
			d.mu.Lock()
			delete(d.waiters, id)
			d.mu.Unlock()
		}()
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
	if !wait {
		return queued(job, "in the outbox; follow it in the delivery log (GET /__admin/pushes/{msg_id})"), nil
	}
	return d.wait(ctx, id, job, ch), nil
}

// queued returns the results of job's messages as still in the outbox, for why.
func queued(job deliveryJob, why string) []baidupush.Result {
	out := make([]baidupush.Result, len(job.Msgs))
	for i, m := range job.Msgs {
		out[i] = baidupush.Result{MsgID: m.MsgID, Outcome: OutcomeQueued, Reason: why, Sequence: i + 1, Attempts: []baidupush.Attempt{}}
	}
	return out
}

// wait returns job id's results: from ch when this replica delivers it, else from the store,
// read at growing intervals (10 ms to the poll interval); queued when the loop stops first.
func (d *Delivery) wait(ctx context.Context, id string, job deliveryJob, ch chan []baidupush.Result) []baidupush.Result {
	pause := 10 * time.Millisecond
	t := time.NewTimer(pause)
	defer t.Stop()
	for {
		select {
		case rs := <-ch:
			return rs
		case <-t.C:
		case <-d.stopped:
			if rs, ok := d.result(ctx, id); ok {
				return rs
			}
			return queued(job, "this replica stopped before the push was delivered; it stays in the outbox for another replica")
		case <-ctx.Done():
			return queued(job, "the caller stopped waiting: "+ctx.Err().Error())
		}
		if rs, ok := d.result(ctx, id); ok {
			return rs
		}
		pause = min(2*pause, d.opts.Poll)
		t.Reset(pause)
	}
}

// result reads a finished job's results from the store.
func (d *Delivery) result(ctx context.Context, id string) ([]baidupush.Result, bool) {
	b, ok, err := d.ob.Result(ctx, id)
	if err != nil || !ok {
		return nil, false
	}
	var rs []baidupush.Result
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, false
	}
	return rs, true
}

// claimLoop claims jobs while a worker is free, and starts a worker for each.
func (d *Delivery) claimLoop() {
	defer d.claiming.Done()
	poll := time.NewTicker(d.opts.Poll)
	defer poll.Stop()
	for {
		select { // one free worker at least, or stop
		case d.slots <- struct{}{}:
		case <-d.stopping:
			return
		}
		n := 1
		for n < d.opts.Workers {
			select {
			case d.slots <- struct{}{}:
				n++
				continue
			default:
			}
			break
		}
		jobs, err := d.ob.Claim(d.hard, d.opts.Replica, d.opts.Lease, n)
		if err != nil && d.hard.Err() == nil {
			d.s.log.Warn("outbox: claim failed", "replica", d.opts.Replica, "err", err)
		}
		for range n - len(jobs) {
			<-d.slots
		}
		for _, j := range jobs {
			jctx, cancel := context.WithCancel(d.hard)
			d.mu.Lock()
			d.leases[j.ID] = cancel
			d.mu.Unlock()
			d.work.Add(1)
			go d.deliver(jctx, j)
		}
		if len(jobs) > 0 {
			continue
		}
		select {
		case <-d.wake:
		case <-poll.C:
		case <-d.stopping:
			return
		}
	}
}

// renewLoop renews the leases of the jobs in flight every third of the lease; a job whose
// lease was lost (another replica claimed it) is canceled here, so that two replicas never
// deliver it at once.
func (d *Delivery) renewLoop() {
	defer d.renewing.Done()
	t := time.NewTicker(d.opts.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-d.hard.Done():
			return
		}
		d.mu.Lock()
		ids := make([]string, 0, len(d.leases))
		for id := range d.leases {
			ids = append(ids, id)
		}
		d.mu.Unlock()
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), d.opts.Lease/3)
			ok, err := d.ob.Extend(ctx, d.opts.Replica, id, d.opts.Lease)
			cancel()
			if err != nil {
				d.s.log.Warn("outbox: lease renewal failed", "job", id, "err", err)
				continue
			}
			if !ok {
				d.s.log.Warn("outbox: lease lost, delivery canceled (another replica has the push)", "job", id)
				d.mu.Lock()
				if c := d.leases[id]; c != nil {
					c()
				}
				d.mu.Unlock()
			}
		}
	}
}

// deliver makes one claimed job's delivery and finishes it, or releases it when the delivery
// was cut short by Stop.
func (d *Delivery) deliver(ctx context.Context, c store.Claimed) {
	defer func() {
		d.mu.Lock()
		if cancel := d.leases[c.ID]; cancel != nil {
			cancel()
		}
		delete(d.leases, c.ID)
		d.mu.Unlock()
		<-d.slots
		d.work.Done()
	}()
	var job deliveryJob
	if err := json.Unmarshal(c.Job, &job); err != nil {
		d.s.log.Error("outbox: a job that does not decode is dropped", "job", c.ID, "err", err)
		d.finish(c.ID, nil)
		return
	}
	run := deliveryRun{delivery: job.DeliveryBase + c.Claims, replica: d.opts.Replica, redelivery: job.Redelivery}
	var done []baidupush.Result // messages acknowledged by an earlier delivery of this job
	if c.Claims > 1 {
		job.Msgs, done = d.s.alreadyAcked(ctx, job)
	}
	var rs []baidupush.Result
	switch {
	case len(job.Msgs) == 0:
	case c.Claims > MaxDeliveries:
		for _, m := range job.Msgs {
			rs = append(rs, baidupush.Result{MsgID: m.MsgID, Outcome: baidupush.OutcomeFailed, Attempts: []baidupush.Attempt{},
				Reason: fmt.Sprintf("given up after %d deliveries cut short (replicas stopped mid-way)", c.Claims-1)})
		}
	default:
		rs = d.s.deliverJob(ctx, job, run)
	}
	rs = append(done, rs...)
	if ctx.Err() != nil && !allDelivered(rs) {
		d.canceled.Add(1)
		if d.hard.Err() == nil { // the lease was lost: the replica that has it answers the waiters
			return
		}
		// Stop: the push goes to another replica at once; the caller waiting here is told.
		rctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := d.ob.Release(rctx, d.opts.Replica, c.ID); err != nil {
			d.s.log.Warn("outbox: release failed; the lease will expire", "job", c.ID, "err", err)
		}
		cancel()
		d.answer(c.ID, rs)
		return
	}
	if allDelivered(rs) {
		d.delivered.Add(1)
	} else {
		d.failed.Add(1)
	}
	d.s.settlePlatform(ctx, job, run, rs)
	d.finish(c.ID, rs)
}

// finish stores job id's results for its waiters, answers a waiter of this replica, and takes
// the job out of the outbox.
func (d *Delivery) finish(id string, rs []baidupush.Result) {
	b, _ := json.Marshal(rs)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.ob.Finish(ctx, id, b, DefaultResultKeep); err != nil {
		d.s.log.Error("outbox: finish failed; the push will be delivered again when its lease expires", "job", id, "err", err)
	}
	d.answer(id, rs)
}

// answer hands rs to the caller of this replica waiting for job id, if any.
func (d *Delivery) answer(id string, rs []baidupush.Result) {
	d.mu.Lock()
	ch := d.waiters[id]
	d.mu.Unlock()
	if ch != nil {
		select {
		case ch <- rs:
		default:
		}
	}
}

func allDelivered(rs []baidupush.Result) bool {
	for _, r := range rs {
		if !r.Delivered() {
			return false
		}
	}
	return true
}

// alreadyAcked splits job's messages into those still to deliver and the results of those an
// earlier delivery got acknowledged (the journal says so): a replica that died after the
// acknowledgement, before finishing the job, must not have the push acknowledged twice.
func (s *Server) alreadyAcked(ctx context.Context, job deliveryJob) ([]baidupush.Message, []baidupush.Result) {
	var todo []baidupush.Message
	var done []baidupush.Result
	endpoint := store.EndpointPush
	if job.Platform != nil {
		endpoint = EndpointPlatformPushAttempt
	}
	for _, m := range job.Msgs {
		es, err := s.store.Journal(ctx, store.Query{App: job.App, Endpoint: endpoint, MsgID: m.MsgID})
		acked := false
		for _, e := range es {
			acked = acked || (e.Code == 0 && e.Push != nil && !e.Push.Duplicate && (job.Resend == nil && job.Platform == nil || e.Push.Delivery > job.DeliveryBase))
		}
		if err != nil || !acked {
			todo = append(todo, m)
			continue
		}
		done = append(done, baidupush.Result{MsgID: m.MsgID, Outcome: baidupush.OutcomeDelivered, Attempts: []baidupush.Attempt{},
			Reason: "acknowledged in an earlier delivery, whose replica stopped before finishing the job"})
	}
	return todo, done
}

// Workers returns the size of the replica's worker pool.
func (d *Delivery) Workers() int { return d.opts.Workers }
