//! The fleet's backend (`--store redis://HOST:PORT[/DB]`): every replica given the same
//! Redis serves every job. What it keeps (all under the `{vts}` hash tag, so that a Redis
//! Cluster puts them in one slot, where scripts may touch them together):
//!
//! | key | what |
//! |---|---|
//! | `{vts}:job:ID` | a job's definition (see [`record`]), expiring `--job-ttl` after its end |
//! | `{vts}:expiries` | every job id by its expiry: the fleet-wide `--max-jobs` count |
//! | `{vts}:key:KEY` | an `Idempotency-Key`: the request it came with and the job it made, for 24 h |
//! | `{vts}:keys` | every key by arrival: at most `--max-jobs` of them, the oldest forgotten first |
//! | `{vts}:cancels` | the pub/sub channel every cancel is published on |
//! | `{vts}:default` | the default job of `GET /status`, stored by the first replica asked for it |
//!
//! Creating and cancelling are Lua scripts, each one atomic step (`redis/scripts.rs`). Reads go through a local
//! cache of the jobs this replica has seen (`redis/cache.rs`), kept true by the cancels channel
//! (`redis/listener.rs`): polling a job seen before costs no round trip.
//!
//! Every round trip is bounded by [`COMMAND_TIMEOUT`]: past it, or when Redis refuses, the
//! operation fails with [`StoreError::Unavailable`] (a 503 with `Retry-After`), and the
//! connection manager reconnects on the next call. The Redis I/O runs on a small runtime of
//! the backend's own, so that it does not depend on which worker thread made the connection.
//!
//! A failed write did nothing, and the replica knows it before answering: each write script
//! carries a deadline ([`WRITE_DEADLINE`] after it is sent) and, run by Redis after it, changes
//! nothing; a create whose answer never came is looked up by its id before the 503 (see
//! [`RedisBackend::insert`]).

mod cache;
mod damaged;
mod listener;
pub mod record;
mod scripts;

pub use self::listener::HEARTBEAT;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::RedisResult;

use self::cache::SeenJobs;
use self::damaged::DamagedRecords;
use self::record::Record;
use self::scripts::{Cancelled, InsertAt, Late, CANCELS, EXPIRIES};
use super::events::EventSink;
use super::idempotency::{Keyed, KEY_TTL};
use super::memory::MemoryBackend;
use super::metrics::StoreMetrics;
use super::wall_clock::WallClock;
use super::{
    CancelOutcome, Inserted, Job, JobBackend, JobId, JobsByState, StoreError, StoreLimits,
};

/// The longest a round trip may take, connecting included, before the request it serves
/// answers 503: well under any client's timeout, well over a healthy Redis's milliseconds.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// How long after it is sent a write script may still act. Half the command timeout: a
/// script Redis runs in time has the other half for its answer to arrive before the replica
/// gives up and answers 503, and one run later does nothing (by Redis's clock, so replicas'
/// and Redis's clocks must agree within that half: keep NTP on).
pub const WRITE_DEADLINE: Duration = Duration::from_millis(500);

/// How many jobs a scrape's count reads per round trip.
const COUNT_BATCH: usize = 1_000;

/// Jobs in Redis, seen ones cached here.
pub struct RedisBackend {
    /// Runs the Redis I/O and the events listener; shut down (without blocking) on drop.
    runtime: Option<tokio::runtime::Runtime>,
    io: tokio::runtime::Handle,
    connection: ConnectionManager,
    cache: Arc<SeenJobs>,
    clock: WallClock,
    limits: StoreLimits,
    metrics: StoreMetrics,
    /// The fleet's default job, once read, until it expires: like every definition it
    /// changes only by a cancel, and the default job cannot be cancelled. A plain lock, held
    /// for no round trip: while Redis is away, each request waits on its own round trip only.
    default_job: std::sync::Mutex<Option<Job>>,
    damaged: DamagedRecords,
}

/// Why a round trip failed.
#[derive(Debug)]
enum Failure {
    /// Redis answered with an error (it refused: full, wrong type, script error): the
    /// command did nothing.
    Refused(String),
    /// No answer came (timeout, connection lost): the command may have run, or may still.
    Silent(String),
}

impl Failure {
    fn into_error(self, operation: &'static str) -> StoreError {
        match self {
            Failure::Refused(detail) | Failure::Silent(detail) => {
                StoreError::unavailable(operation, detail)
            }
        }
    }
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Not a plain drop: that blocks, and panics inside an async context.
            runtime.shutdown_background();
        }
    }
}

impl RedisBackend {
    /// The backend on the Redis at `url`, connecting lazily: it opens while Redis is down,
    /// and its operations fail (503) until Redis answers. Cancels are told to `events`.
    pub fn open(
        url: &str,
        limits: StoreLimits,
        metrics: StoreMetrics,
        events: EventSink,
    ) -> Result<Self, String> {
        // Errors name no URL: it may hold a password.
        let client = redis::Client::open(url).map_err(|error| format!("the Redis URL: {error}"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("redis-io")
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start the Redis I/O thread: {error}"))?;
        let io = runtime.handle().clone();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            // Few and quick: a request waits on the reconnection, and answers 503 past the
            // command timeout anyway. The next request tries again.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100));
        let connection = {
            let _inside = runtime.enter();
            ConnectionManager::new_lazy_with_config(client.clone(), config)
                .map_err(|error| format!("the Redis connection: {error}"))?
        };
        let cache = Arc::new(SeenJobs::new(limits.job_ttl, limits.max_jobs));
        io.spawn(listener::listen(
            client,
            CANCELS,
            COMMAND_TIMEOUT,
            Arc::clone(&cache),
            events,
        ));
        Ok(RedisBackend {
            runtime: Some(runtime),
            io,
            connection,
            cache,
            clock: WallClock::now(),
            limits,
            metrics,
            default_job: std::sync::Mutex::default(),
            damaged: DamagedRecords::default(),
        })
    }

    /// Runs `call` on the I/O runtime, bounded by [`COMMAND_TIMEOUT`], counting one round
    /// trip of `operation`, and one error if it fails.
    async fn round_trip<T, F>(
        &self,
        operation: &'static str,
        call: impl FnOnce(ConnectionManager) -> F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = RedisResult<T>> + Send + 'static,
    {
        self.try_round_trip(operation, COMMAND_TIMEOUT, call)
            .await
            .map_err(|failure| failure.into_error(operation))
    }

    /// [`RedisBackend::round_trip`] bounded by `timeout`, telling a refusal from a silence.
    async fn try_round_trip<T, F>(
        &self,
        operation: &'static str,
        timeout: Duration,
        call: impl FnOnce(ConnectionManager) -> F,
    ) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: Future<Output = RedisResult<T>> + Send + 'static,
    {
        self.metrics.round_trip(operation);
        let bounded = tokio::time::timeout(timeout, call(self.connection.clone()));
        let failure = match self.io.spawn(bounded).await {
            Ok(Ok(Ok(value))) => return Ok(value),
            // Never sent: nothing to learn afterwards.
            Ok(Ok(Err(error))) if error.is_connection_refusal() => {
                Failure::Refused(error.to_string())
            }
            Ok(Ok(Err(error)))
                if error.is_timeout() || error.is_io_error() || error.is_connection_dropped() =>
            {
                Failure::Silent(error.to_string())
            }
            Ok(Ok(Err(error))) => Failure::Refused(error.to_string()),
            Ok(Err(_)) => Failure::Silent(format!("Redis did not answer within {timeout:?}")),
            Err(_) => Failure::Refused("the Redis I/O thread has stopped".to_owned()),
        };
        self.metrics.store_error(operation);
        Err(failure)
    }

    /// The jobs `ids` name, the unseen ones read in one pipelined round trip counted as
    /// `operation` (a scrape's reads are told apart from watches'), and kept in the cache
    /// only if `fill` says so: a scrape reads every job of the fleet, which this replica may
    /// never be asked about.
    async fn read_many(
        &self,
        ids: &[JobId],
        now: Instant,
        operation: &'static str,
        fill: Fill,
    ) -> Result<Vec<Option<Job>>, StoreError> {
        let mut jobs: Vec<Option<Job>> = ids.iter().map(|id| self.cache.get(*id, now)).collect();
        let unseen: Vec<(usize, JobId)> = ids
            .iter()
            .enumerate()
            .filter(|(i, _)| jobs[*i].is_none())
            .map(|(i, id)| (i, *id))
            .collect();
        if unseen.is_empty() {
            return Ok(jobs);
        }
        let since = self.cache.epoch();
        let mut pipeline = redis::pipe();
        // Each read answers for itself: a key of another type (WRONGTYPE) is that job's
        // problem, not the whole watch's.
        pipeline.ignore_errors();
        for (_, id) in &unseen {
            pipeline.add_command(scripts::hmget(*id));
        }
        let answers: Vec<RedisResult<Vec<Option<String>>>> = self
            .round_trip(operation, move |mut connection| async move {
                pipeline.query_async(&mut connection).await
            })
            .await?;
        for ((i, id), answer) in unseen.into_iter().zip(answers) {
            let job = answer
                .map_err(|error| error.to_string())
                .and_then(|fields| self.job_of(&fields))
                .unwrap_or_else(|reason| {
                    self.damaged.report(id, &reason);
                    None
                })
                .and_then(|job| self.kept(job, now));
            if let (Some(job), Fill::Yes) = (job, fill) {
                self.cache.fill(id, job, since, now);
            }
            jobs[i] = job;
        }
        Ok(jobs)
    }

    /// The job in an `HMGET`'s `fields`: `None` if there is none, an error (the reason) if
    /// the record is there but unreadable.
    fn job_of(&self, fields: &[Option<String>]) -> Result<Option<Job>, String> {
        Record::from_fields(fields)
            .and_then(|record| record.map(|record| record.to_job(&self.clock)).transpose())
    }

    /// A write's deadline, [`WRITE_DEADLINE`] from now, and the same in Unix microseconds.
    fn write_deadline(&self) -> (Instant, u64) {
        let deadline = Instant::now() + WRITE_DEADLINE;
        (deadline, self.clock.unix_micros_of(deadline))
    }

    /// The error of a write Redis ran too late to act: logged with how late, since a
    /// replica whose clock is behind Redis's by more than [`WRITE_DEADLINE`] sees only these.
    fn late(&self, operation: &'static str, late: Late, deadline_us: u64) -> StoreError {
        StoreError::unavailable(
            operation,
            format!(
                "Redis ran the {operation} {} ms past its deadline, so it did nothing \
                 (Redis slow or paused, or its clock ahead of this replica's)",
                late.redis_now_us.saturating_sub(deadline_us) / 1_000
            ),
        )
    }

    /// After a create whose answer never came: whether it happened, read by its id (drawn
    /// here, so nobody else made it) once its `deadline` has passed. Found: it was created,
    /// and is answered so. Not found: it was not, and never will be, being past its
    /// deadline. This read failing too is the one case left unknown (the script ran in time
    /// and its answer was lost); a keyed create's replay tells the caller which.
    async fn learn_insert(
        &self,
        id: JobId,
        job: Job,
        now: Instant,
        deadline: Instant,
        detail: String,
    ) -> Result<Inserted, StoreError> {
        tracing::warn!(error = %detail, job = %id, "no answer to a create; reading whether it happened");
        tokio::time::sleep_until(deadline.into()).await;
        let command = scripts::hmget(id);
        // Bounded by the deadline's length, not the command timeout's: a create waits for
        // Redis at most the two together.
        let fields: Vec<Option<String>> = self
            .try_round_trip("get", WRITE_DEADLINE, move |mut connection| async move {
                command.query_async(&mut connection).await
            })
            .await
            .map_err(|_| {
                StoreError::unavailable(
                    "insert",
                    format!("whether job {id} was created is unknown: {detail}"),
                )
            })?;
        match self.job_of(&fields) {
            Ok(Some(_)) => {
                self.cache.fill(id, job, self.cache.epoch(), now);
                Ok(Inserted::New)
            }
            _ => Err(StoreError::unavailable(
                "insert",
                format!("job {id} was not created: {detail}"),
            )),
        }
    }

    fn kept(&self, job: Job, now: Instant) -> Option<Job> {
        (job.ends_at() + self.limits.job_ttl > now).then_some(job)
    }

    fn unix_millis(&self, at: Instant) -> u64 {
        self.clock.unix_micros_of(at) / 1_000
    }

    fn ttl_millis(&self) -> u64 {
        u64::try_from(self.limits.job_ttl.as_millis()).unwrap_or(u64::MAX)
    }
}

/// Whether jobs read from Redis go into the cache.
#[derive(Debug, Clone, Copy)]
enum Fill {
    Yes,
    No,
}

impl JobBackend for RedisBackend {
    async fn insert(
        &self,
        id: JobId,
        job: Job,
        keyed: Option<Keyed<'_>>,
        now: Instant,
    ) -> Result<Inserted, StoreError> {
        let keyed = match keyed {
            Some(keyed) => Some((
                keyed.key,
                serde_json::to_string(keyed.request)
                    .map_err(|error| StoreError::unavailable("insert", error.to_string()))?,
            )),
            None => None,
        };
        let (deadline, deadline_us) = self.write_deadline();
        let at = InsertAt {
            now_ms: self.unix_millis(now),
            expires_ms: self.unix_millis(job.ends_at()) + self.ttl_millis(),
            max_jobs: self.limits.max_jobs,
            key_ttl_ms: u64::try_from(KEY_TTL.as_millis()).unwrap_or(u64::MAX),
            deadline_us,
        };
        let call = scripts::insert(id, Record::of(&job, &self.clock), at, keyed);
        let answer: Vec<String> = match self
            .try_round_trip(
                "insert",
                COMMAND_TIMEOUT,
                move |mut connection| async move { call.run(&mut connection).await },
            )
            .await
        {
            Ok(answer) => answer,
            Err(Failure::Silent(detail)) => {
                return self.learn_insert(id, job, now, deadline, detail).await
            }
            Err(refused) => return Err(refused.into_error("insert")),
        };
        match scripts::inserted(&answer)
            .map_err(|detail| StoreError::unavailable("insert", detail))?
        {
            scripts::Inserted::New => {
                self.cache.fill(id, job, self.cache.epoch(), now);
                Ok(Inserted::New)
            }
            scripts::Inserted::Full { earliest_expiry_ms } => Err(MemoryBackend::full(
                self.limits.max_jobs,
                Duration::from_millis(earliest_expiry_ms.saturating_sub(at.now_ms)),
            )),
            scripts::Inserted::Replayed { request, job_id } => {
                Ok(Inserted::Replayed { request, job_id })
            }
            scripts::Inserted::Late(late) => Err(self.late("insert", late, at.deadline_us)),
        }
    }

    async fn get(&self, id: JobId, now: Instant) -> Result<Option<Job>, StoreError> {
        let [job] = self
            .read_many(&[id], now, "get", Fill::Yes)
            .await?
            .try_into()
            .unwrap_or([None]);
        Ok(job)
    }

    async fn get_many(&self, ids: &[JobId], now: Instant) -> Result<Vec<Option<Job>>, StoreError> {
        self.read_many(ids, now, "get_many", Fill::Yes).await
    }

    async fn cancel(
        &self,
        id: JobId,
        now: Instant,
    ) -> Result<Option<(CancelOutcome, Job)>, StoreError> {
        let (_, deadline_us) = self.write_deadline();
        let call = scripts::cancel(
            id,
            self.clock.unix_micros_of(now),
            deadline_us,
            self.ttl_millis(),
        );
        let answer: Option<Vec<String>> = self
            .round_trip("cancel", move |mut connection| async move {
                call.run(&mut connection).await
            })
            .await?;
        let (changed, fields) = match scripts::cancelled(answer)
            .map_err(|detail| StoreError::unavailable("cancel", detail))?
        {
            Cancelled::Missing => return Ok(None),
            Cancelled::Late(late) => return Err(self.late("cancel", late, deadline_us)),
            Cancelled::Job { changed, fields } => (changed, fields),
        };
        let job = self.job_of(&fields).unwrap_or_else(|reason| {
            self.damaged.report(id, &reason);
            None
        });
        let Some(job) = job.and_then(|job| self.kept(job, now)) else {
            return Ok(None);
        };
        let outcome = if changed {
            // Heard back on the channel too; forgotten now so this replica's next poll sees it.
            self.cache.forget(id);
            CancelOutcome::Cancelled
        } else if job.cancelled_at.is_some() {
            CancelOutcome::AlreadyCancelled
        } else {
            CancelOutcome::AlreadyEnded
        };
        Ok(Some((outcome, job)))
    }

    async fn jobs_by_state(&self, now: Instant) -> Result<JobsByState, StoreError> {
        let after = format!("({}", self.unix_millis(now));
        let ids: Vec<String> = self
            .round_trip("count", move |mut connection| async move {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(EXPIRIES)
                    .arg(after)
                    .arg("+inf")
                    .query_async(&mut connection)
                    .await
            })
            .await?;
        let ids: Vec<JobId> = ids.iter().filter_map(|text| JobId::parse(text)).collect();
        let mut counts = JobsByState::default();
        for batch in ids.chunks(COUNT_BATCH) {
            for job in self
                .read_many(batch, now, "count", Fill::No)
                .await?
                .into_iter()
                .flatten()
            {
                counts.count(&job, now);
            }
        }
        Ok(counts)
    }

    /// Ready when Redis answers a PING and this replica hears the fleet's cancels: without
    /// them, its held requests would not wake when another replica cancels their job.
    async fn ping(&self) -> Result<(), StoreError> {
        self.round_trip("ping", |mut connection| async move {
            redis::cmd("PING").query_async::<()>(&mut connection).await
        })
        .await?;
        if !self.cache.is_trusted() {
            return Err(StoreError::unavailable(
                "ping",
                "not yet subscribed to the cancels channel",
            ));
        }
        Ok(())
    }

    /// Read once per replica and kept until it expires; until Redis has answered, `GET
    /// /status` answers 503 like any read of a job this replica has not seen. Once the
    /// fleet's default job has expired, the next replica asked starts another, from then.
    async fn default_job(&self, candidate: Job, now: Instant) -> Result<Job, StoreError> {
        let known = *self
            .default_job
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(job) = known.and_then(|job| self.kept(job, now)) {
            return Ok(job);
        }
        // This replica's own, unless it would already have expired: then one starting now.
        let candidate = self.kept(candidate, now).unwrap_or(Job {
            created_at: now,
            ..candidate
        });
        let expires_ms = self.unix_millis(candidate.ends_at()) + self.ttl_millis();
        let call = scripts::default_job(Record::of(&candidate, &self.clock), expires_ms);
        let fields: Vec<Option<String>> = self
            .round_trip("default", move |mut connection| async move {
                call.run(&mut connection).await
            })
            .await?;
        let job = self
            .job_of(&fields)
            .and_then(|job| job.ok_or_else(|| "the default job's hash is empty".to_owned()))
            .map_err(|detail| StoreError::unavailable("default", detail))?;
        *self
            .default_job
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(job);
        Ok(job)
    }
}
