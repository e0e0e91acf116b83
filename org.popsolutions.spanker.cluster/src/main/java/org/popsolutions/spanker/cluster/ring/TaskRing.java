package org.popsolutions.spanker.cluster.ring;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.FailurePolicy;
import org.popsolutions.spanker.api.cluster.NodeInfo;
import org.popsolutions.spanker.api.cluster.Orchestrator;
import org.popsolutions.spanker.api.cluster.RingStats;
import org.popsolutions.spanker.api.cluster.TaskOutcome;
import org.popsolutions.spanker.api.cluster.TaskParam;
import org.popsolutions.spanker.api.cluster.TaskState;
import org.popsolutions.spanker.cluster.wire.Message;
import org.popsolutions.spanker.cluster.wire.Status;
import org.popsolutions.spanker.cluster.wire.Wire;

/**
 * One node's task ring, the orchestrator of its children. Every mutation happens under one lock; messages are
 * sent after the lock is released, so a slow socket never blocks completions arriving on another one.
 *
 * <p>Slots hold tasks from the oldest unretired id to the newest ({@code slot = id & (window - 1)}). A task is
 * dispatched only when every producer of its inputs has completed; a failed task fails its consumers with the
 * cause named and retires like any other; a task is CONSUMED once done and its references (its scope's, one per
 * consumer) are released; only the unbroken prefix of CONSUMED tasks retires, returning its dependency entries.
 * Tensors hold heap-ring memory until freed (or their scope ends) and every task using them has retired.
 */
public final class TaskRing implements Orchestrator {
    private static final int KEPT_OUTCOMES = 4096;

    private final Coordinate self;
    private final RingConfig config;
    private final RingTransport transport;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Task[] slots;
    private final HeapRing heap;
    private final DependencyPool pool;
    private final Map<Long, Tensor> tensors = new HashMap<>();
    private final Map<Long, Dispatch> dispatched = new HashMap<>();
    private final Deque<Scope> scopes = new ArrayDeque<>();
    private final LinkedHashMap<Long, TaskOutcome> retiredOutcomes = new LinkedHashMap<>(16, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, TaskOutcome> eldest) {
            return size() > KEPT_OUTCOMES;
        }
    };
    private final List<Runnable> outbox = new ArrayList<>();
    private long nextId = 1;
    private long oldest = 1;
    private long nextDispatchId = 1;
    private long nextHandle = 1;
    private long submitted;
    private long retired;
    private long failed;
    private long rerun;
    private long ringWaits;
    private long heapWaits;
    private long poolWaits;
    private long tensorMapWaits;

    public TaskRing(Coordinate self, RingConfig config, RingTransport transport) {
        this.self = self;
        this.config = config;
        this.transport = transport;
        this.slots = new Task[config.window()];
        this.heap = new HeapRing(config.heapBytes());
        this.pool = new DependencyPool(config.dependencyEntries());
        scopes.push(new Scope());
    }

    private static final class Task {
        final long id;
        final String kernel;
        final Coordinate[] targets;
        final List<List<TaskParam>> params;
        final FailurePolicy policy;
        final Scope scope;
        final List<Task> producers = new ArrayList<>();
        final Set<Tensor> used = new LinkedHashSet<>();
        final Map<Long, Version> reads = new HashMap<>();
        final Map<Long, Version> writes = new HashMap<>();
        final byte[][] results;
        final Coordinate[] ranOn;
        final long[] dispatchIds;
        TaskState state = TaskState.PENDING;
        boolean failed;
        String error;
        int references = 1;
        int waitingOn;
        int consumers;
        int remaining;
        int codeShipped;

        Task(long id, String kernel, Coordinate[] targets, List<List<TaskParam>> params, FailurePolicy policy,
                Scope scope) {
            this.id = id;
            this.kernel = kernel;
            this.targets = targets;
            this.params = params;
            this.policy = policy;
            this.scope = scope;
            this.results = new byte[targets.length][];
            this.ranOn = new Coordinate[targets.length];
            this.dispatchIds = new long[targets.length];
            this.remaining = targets.length;
        }

        boolean done() {
            return state == TaskState.COMPLETED || state == TaskState.FAILED || state == TaskState.CONSUMED;
        }

        String describe() {
            return "task #" + id + " '" + kernel + "' on " + (targets.length == 1 ? targets[0].toString()
                    : targets.length + " nodes");
        }
    }

    private static final class Tensor {
        final long handle;
        final int size;
        final HeapRing.Allocation memory;
        final Set<Coordinate> holders = new LinkedHashSet<>();
        Version current = new Version(null);
        byte[] registered;
        int users;
        boolean ownerReleased;
        boolean freed;

        Tensor(long handle, int size, HeapRing.Allocation memory) {
            this.handle = handle;
            this.size = size;
            this.memory = memory;
        }
    }

    /** One written state of a tensor: who produces it, where its bytes are, who reads it. */
    private static final class Version {
        final Task producer;
        final List<Task> readers = new ArrayList<>();
        Coordinate holder;

        Version(Task producer) {
            this.producer = producer;
        }
    }

    private static final class Scope {
        final List<Task> tasks = new ArrayList<>();
        final List<Tensor> tensors = new ArrayList<>();
    }

    private record Dispatch(Task task, int index) {
    }

    @Override
    public Coordinate self() {
        return self;
    }

    @Override
    public List<Coordinate> children() {
        return transport.liveChildren(self);
    }

    private List<Coordinate> liveChildren() {
        return transport.liveChildren(self);
    }

    @Override
    public List<NodeInfo> queryPeers() {
        return transport.peers(self);
    }

    @Override
    public long submitTask(Coordinate target, String kernel, List<TaskParam> params, FailurePolicy policy) {
        return submit(List.of(target), kernel, List.of(params), policy);
    }

    @Override
    public long submitTaskGroup(List<Coordinate> targets, String kernel, List<List<TaskParam>> params,
            FailurePolicy policy) {
        if (targets.isEmpty() || targets.size() != params.size()) {
            throw new ClusterException("a task group needs one parameter list per target; got " + targets.size()
                    + " targets and " + params.size() + " parameter lists");
        }
        return submit(targets, kernel, params, policy);
    }

    private long submit(List<Coordinate> targets, String kernel, List<List<TaskParam>> params,
            FailurePolicy policy) {
        if (kernel == null || kernel.isEmpty()) {
            throw new ClusterException("a task needs a kernel name");
        }
        for (Coordinate target : targets) {
            checkChild(target);
        }
        lock.lock();
        try {
            long deadline = deadline();
            boolean counted = false;
            while (nextId - oldest >= slots.length) {
                retire();
                if (nextId - oldest < slots.length) {
                    break;
                }
                if (!counted) {
                    ringWaits++;
                    counted = true;
                }
                if (!await(deadline)) {
                    Task blocking = slot(oldest);
                    throw new ClusterException("task ring of " + self + " stayed full for "
                            + config.backPressureTimeout().toSeconds() + " s: " + slots.length
                            + " tasks in flight, the oldest is " + blocking.describe() + " in state "
                            + blocking.state + " with " + blocking.references
                            + " references; end scopes or free tensors so tasks can retire");
                }
            }
            Set<Tensor> reads = new LinkedHashSet<>();
            Set<Tensor> writes = new LinkedHashSet<>();
            for (List<TaskParam> list : params) {
                for (TaskParam param : list) {
                    if (param.type() == org.popsolutions.spanker.api.cluster.ParamType.SCALAR) {
                        continue;
                    }
                    Tensor tensor = tensors.get(param.handle());
                    if (tensor == null || tensor.freed) {
                        throw new ClusterException("tensor handle " + param.handle() + " of " + kernel + " is "
                                + (tensor == null ? "unknown (never allocated, or freed and gone)" : "freed")
                                + "; allocate a tensor with allocTensor and use it before freeing it");
                    }
                    if (param.type().reads()) {
                        if (tensor.current.producer == null && tensor.current.holder == null) {
                            throw new ClusterException("tensor " + param.handle() + " is read by " + kernel
                                    + " but nothing produced it: submit its producer or regData it first");
                        }
                        reads.add(tensor);
                    }
                    if (param.type().writes()) {
                        writes.add(tensor);
                    }
                }
            }
            // Read after write: wait for the producer of the version read. Write after read or write: wait for the
            // readers and the producer of the version replaced, so a node never overwrites bytes still to be read.
            Set<Task> producers = new LinkedHashSet<>();
            for (Tensor tensor : reads) {
                addDependency(producers, tensor.current.producer);
            }
            for (Tensor tensor : writes) {
                addDependency(producers, tensor.current.producer);
                for (Task reader : tensor.current.readers) {
                    addDependency(producers, reader);
                }
            }
            int pending = 0;
            for (Task producer : producers) {
                if (!producer.done()) {
                    pending++;
                }
            }
            reserveDependencyEntries(pending, deadline);
            long id = nextId++;
            Task task = new Task(id, kernel, targets.toArray(Coordinate[]::new), List.copyOf(params), policy,
                    scopes.peek());
            slots[(int) (id & (slots.length - 1))] = task;
            scopes.peek().tasks.add(task);
            submitted++;
            task.used.addAll(reads);
            task.used.addAll(writes);
            for (Tensor tensor : task.used) {
                tensor.users++;
            }
            Task failedProducer = null;
            for (Task producer : producers) {
                producer.references++;
                task.producers.add(producer);
                if (producer.failed) {
                    failedProducer = producer;
                } else if (!producer.done()) {
                    int head = pool.push(producer.consumers, id);
                    producer.consumers = head;
                    task.waitingOn++;
                }
            }
            for (Tensor tensor : reads) {
                task.reads.put(tensor.handle, tensor.current);
                tensor.current.readers.add(task);
            }
            for (Tensor tensor : writes) {
                Version version = new Version(task);
                task.writes.put(tensor.handle, version);
                tensor.current = version;
            }
            if (failedProducer != null) {
                fail(task, "its input from " + failedProducer.describe() + " failed: " + failedProducer.error);
            } else if (task.waitingOn == 0) {
                dispatch(task);
            }
            return id;
        } finally {
            unlockAndSend();
        }
    }

    private static void addDependency(Set<Task> dependencies, Task task) {
        if (task != null && task.state != TaskState.CONSUMED) {
            dependencies.add(task);
        }
    }

    private void checkChild(Coordinate target) {
        if (target == null || target.level() == org.popsolutions.spanker.api.cluster.Level.CLOS2
                || !target.parent().equals(self)) {
            throw new ClusterException("task target " + target + " is not a child of " + self
                    + "; an orchestrator submits to the level below it");
        }
        if (!transport.isLive(target)) {
            throw new ClusterException("task target " + target + " is not live: " + transport.describeDeath(target));
        }
    }

    /** Waits (bounded) until the dependency pool has {@code entries} free entries. */
    private void reserveDependencyEntries(int entries, long deadline) {
        boolean counted = false;
        while (pool.capacity() - pool.used() < entries) {
            retire();
            if (pool.capacity() - pool.used() >= entries) {
                return;
            }
            if (!counted) {
                poolWaits++;
                counted = true;
            }
            if (!await(deadline)) {
                throw new ClusterException("dependency pool of " + self + " stayed full for "
                        + config.backPressureTimeout().toSeconds() + " s (" + pool.capacity()
                        + " entries in use by tasks that have not retired)");
            }
        }
    }

    private void dispatch(Task task) {
        task.state = TaskState.READY;
        for (int i = 0; i < task.targets.length; i++) {
            if (!dispatchOne(task, i, task.targets[i])) {
                return;
            }
        }
        task.state = TaskState.RUNNING;
    }

    /** Sends sub-task {@code index} to {@code target}; {@code false} when the task failed instead. */
    private boolean dispatchOne(Task task, int index, Coordinate target) {
        List<TaskParam> wire = new ArrayList<>();
        for (TaskParam param : task.params.get(index)) {
            if (param.type() == org.popsolutions.spanker.api.cluster.ParamType.SCALAR) {
                wire.add(param);
                continue;
            }
            Tensor tensor = tensors.get(param.handle());
            if (param.type().reads()) {
                Coordinate holder = task.reads.get(param.handle()).holder;
                if (holder == null) {
                    fail(task, "input tensor " + param.handle() + " has no holder");
                    return false;
                }
                if (!transport.isLive(holder)) {
                    fail(task, "input tensor " + param.handle() + " was held by " + holder + ", which died ("
                            + transport.describeDeath(holder) + ")");
                    return false;
                }
                wire.add(new TaskParam(param.type(), param.handle(), holder.pack()));
            } else {
                wire.add(new TaskParam(param.type(), param.handle(), tensor.size));
            }
        }
        long dispatchId = nextDispatchId;
        nextDispatchId = nextDispatchId == 0xFFFF_FFFFL ? 1 : nextDispatchId + 1;
        task.dispatchIds[index] = dispatchId;
        task.targets[index] = target;
        dispatched.put(dispatchId, new Dispatch(task, index));
        Message.CallTask call = new Message.CallTask(task.kernel, dispatchId, scopes.size() - 1, wire);
        outbox.add(() -> {
            try {
                transport.send(target, call);
            } catch (UncheckedIOException | ClusterException e) {
                onUnreachable(dispatchId, target, e.getMessage());
            }
        });
        return true;
    }

    private void onUnreachable(long dispatchId, Coordinate target, String reason) {
        lock.lock();
        try {
            Dispatch dispatch = dispatched.remove(dispatchId);
            if (dispatch != null) {
                nodeLost(dispatch, target + " could not be reached (" + reason + ")");
            }
        } finally {
            unlockAndSend();
        }
    }

    /** A sub-task's node is gone: re-run it on a live sibling per its policy, or fail it naming the node. */
    private void nodeLost(Dispatch dispatch, String why) {
        Task task = dispatch.task();
        if (task.policy == FailurePolicy.RERUN_ON_SIBLING) {
            Coordinate dead = task.targets[dispatch.index()];
            for (Coordinate sibling : liveChildren()) {
                if (!sibling.equals(dead)) {
                    rerun++;
                    dispatchOne(task, dispatch.index(), sibling);
                    return;
                }
            }
            fail(task, why + "; no live sibling to re-run on");
            return;
        }
        fail(task, why);
    }

    /** A TASK_COMPLETE arrived from {@code from}. */
    public void onComplete(Coordinate from, Message.TaskComplete complete) {
        lock.lock();
        try {
            Dispatch dispatch = dispatched.get(complete.taskId());
            if (dispatch == null || !dispatch.task().targets[dispatch.index()].equals(from)) {
                return; // an answer to a dispatch that was re-run or failed already
            }
            dispatched.remove(complete.taskId());
            Task task = dispatch.task();
            if (task.done()) {
                return;
            }
            if (complete.status() != Status.OK) {
                fail(task, task.describe() + " failed on " + from + ": " + complete.message());
                return;
            }
            task.results[dispatch.index()] = complete.result();
            task.ranOn[dispatch.index()] = from;
            for (TaskParam param : task.params.get(dispatch.index())) {
                if (param.type().writes()) {
                    task.writes.get(param.handle()).holder = from;
                    Tensor tensor = tensors.get(param.handle());
                    if (tensor != null) {
                        tensor.holders.add(from);
                    }
                }
            }
            if (--task.remaining == 0) {
                complete(task);
            }
        } finally {
            unlockAndSend();
        }
    }

    /** A RETRY_WITH_CODE arrived: ship the code once and call again, or fail the task. */
    public void onRetryWithCode(Coordinate from, Message.RetryWithCode retry) {
        Dispatch dispatch;
        lock.lock();
        try {
            dispatch = dispatched.get(retry.taskId());
            if (dispatch == null || !dispatch.task().targets[dispatch.index()].equals(from)) {
                return;
            }
            if (dispatch.task().codeShipped++ > dispatch.task().targets.length) {
                dispatched.remove(retry.taskId());
                fail(dispatch.task(), from + " still lacks the code of '" + retry.name() + "' after it was shipped");
                return;
            }
        } finally {
            unlockAndSend();
        }
        boolean shipped;
        String reason = null;
        try {
            shipped = transport.shipCode(from, retry.name());
        } catch (RuntimeException e) {
            shipped = false;
            reason = e.getMessage();
        }
        lock.lock();
        try {
            if (dispatched.remove(retry.taskId()) == null) {
                return;
            }
            if (!shipped) {
                fail(dispatch.task(), from + " lacks the code of '" + retry.name() + "' and " + self
                        + (reason == null ? " has none to ship" : " could not ship it: " + reason));
                return;
            }
            dispatchOne(dispatch.task(), dispatch.index(), from);
        } finally {
            unlockAndSend();
        }
    }

    /** Membership removed {@code node}: its in-flight sub-tasks re-run or fail; tensors it held are lost. */
    public void onNodeDead(Coordinate node) {
        lock.lock();
        try {
            String why = node + " died (" + transport.describeDeath(node) + ")";
            for (Map.Entry<Long, Dispatch> entry : new ArrayList<>(dispatched.entrySet())) {
                Dispatch dispatch = entry.getValue();
                if (dispatch.task().targets[dispatch.index()].equals(node)) {
                    dispatched.remove(entry.getKey());
                    nodeLost(dispatch, why);
                }
            }
            // Data this ring registered itself is still here: put it on a live sibling again.
            for (Tensor tensor : tensors.values()) {
                Version version = tensor.current;
                if (version.producer == null && node.equals(version.holder) && tensor.registered != null) {
                    for (Coordinate sibling : liveChildren()) {
                        version.holder = sibling;
                        tensor.holders.add(sibling);
                        Message.RegData again = new Message.RegData(tensor.handle, scopes.size() - 1,
                                tensor.registered);
                        outbox.add(() -> sendQuietly(sibling, again));
                        break;
                    }
                }
            }
            changed.signalAll();
        } finally {
            unlockAndSend();
        }
    }

    private void complete(Task task) {
        task.state = TaskState.COMPLETED;
        List<Task> consumers = consumersOf(task);
        finish(task);
        for (Task consumer : consumers) {
            if (consumer.state == TaskState.PENDING && --consumer.waitingOn == 0) {
                dispatch(consumer);
            }
        }
    }

    private void fail(Task task, String reason) {
        if (task.done()) {
            return;
        }
        task.state = TaskState.FAILED;
        task.failed = true;
        task.error = reason;
        failed++;
        for (long dispatchId : task.dispatchIds) {
            dispatched.remove(dispatchId);
        }
        List<Task> consumers = consumersOf(task);
        finish(task);
        for (Task consumer : consumers) {
            if (!consumer.done()) {
                fail(consumer, "its input from " + task.describe() + " failed: " + reason);
            }
        }
    }

    /** The consumers waiting on {@code task}, read before any of them can retire it and reuse its entries. */
    private List<Task> consumersOf(Task task) {
        List<Task> consumers = new ArrayList<>();
        for (int entry = task.consumers; entry != 0; entry = pool.next(entry)) {
            Task consumer = slotOf(pool.consumer(entry));
            if (consumer != null) {
                consumers.add(consumer);
            }
        }
        return consumers;
    }

    /** A task is done: it no longer needs its producers. */
    private void finish(Task task) {
        for (Task producer : task.producers) {
            release(producer);
        }
        task.producers.clear();
        consumeIfUnused(task);
        changed.signalAll();
    }

    private void release(Task task) {
        task.references--;
        consumeIfUnused(task);
    }

    private void consumeIfUnused(Task task) {
        if (task.references == 0 && (task.state == TaskState.COMPLETED || task.state == TaskState.FAILED)) {
            task.state = TaskState.CONSUMED;
            retire();
        }
    }

    /** Retires the unbroken prefix of CONSUMED tasks. */
    private void retire() {
        while (oldest < nextId) {
            Task task = slot(oldest);
            if (task.state != TaskState.CONSUMED) {
                break;
            }
            slots[(int) (oldest & (slots.length - 1))] = null;
            pool.release(task.consumers);
            task.consumers = 0;
            retiredOutcomes.put(task.id, outcomeOf(task));
            for (Tensor tensor : task.used) {
                tensor.users--;
                tensor.current.readers.remove(task);
                freeIfDead(tensor);
            }
            retired++;
            oldest++;
            changed.signalAll();
        }
    }

    private void freeIfDead(Tensor tensor) {
        if (tensor.users > 0 || !tensor.ownerReleased || !tensors.containsKey(tensor.handle)) {
            return;
        }
        tensors.remove(tensor.handle);
        heap.release(tensor.memory);
        Message.TensorFree free = new Message.TensorFree(new long[] {tensor.handle});
        for (Coordinate holder : tensor.holders) {
            if (transport.isLive(holder)) {
                outbox.add(() -> sendQuietly(holder, free));
            }
        }
        changed.signalAll();
    }

    private void sendQuietly(Coordinate target, Message message) {
        try {
            transport.send(target, message);
        } catch (UncheckedIOException | ClusterException e) {
            // The node is going away; membership will report it and the tasks that needed it fail by name.
        }
    }

    @Override
    public void scopeBegin() {
        lock.lock();
        try {
            if (scopes.size() > Wire.MAX_SCOPE_DEPTH) {
                throw new ClusterException("scope depth would exceed " + Wire.MAX_SCOPE_DEPTH
                        + "; end a scope before beginning another");
            }
            scopes.push(new Scope());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void scopeEnd() {
        lock.lock();
        try {
            if (scopes.size() == 1) {
                throw new ClusterException("scopeEnd without a matching scopeBegin");
            }
            endScope(scopes.pop());
        } finally {
            unlockAndSend();
        }
    }

    private void endScope(Scope scope) {
        for (Tensor tensor : scope.tensors) {
            tensor.ownerReleased = true;
            freeIfDead(tensor);
        }
        for (Task task : scope.tasks) {
            release(task);
        }
        retire();
    }

    @Override
    public long allocTensor(Coordinate target, int bytes) {
        checkChild(target);
        if (bytes <= 0 || bytes > config.heapBytes()) {
            throw new ClusterException("tensor of " + bytes + " bytes does not fit the heap ring of "
                    + config.heapBytes() + " bytes");
        }
        lock.lock();
        try {
            long deadline = deadline();
            boolean mapCounted = false;
            while (tensors.size() >= config.tensorEntries()) {
                retire();
                if (tensors.size() < config.tensorEntries()) {
                    break;
                }
                if (!mapCounted) {
                    tensorMapWaits++;
                    mapCounted = true;
                }
                if (!await(deadline)) {
                    throw new ClusterException("tensor map of " + self + " stayed full for "
                            + config.backPressureTimeout().toSeconds() + " s (" + config.tensorEntries()
                            + " live tensors); free tensors or end scopes");
                }
            }
            HeapRing.Allocation memory;
            boolean heapCounted = false;
            while ((memory = heap.allocate(bytes)) == null) {
                retire();
                if (!heapCounted) {
                    heapWaits++;
                    heapCounted = true;
                }
                if ((memory = heap.allocate(bytes)) != null) {
                    break;
                }
                if (!await(deadline)) {
                    throw new ClusterException("heap ring of " + self + " had no room for " + bytes + " bytes for "
                            + config.backPressureTimeout().toSeconds() + " s (" + heap.used() + " of "
                            + heap.capacity() + " bytes in use); free tensors or end scopes");
                }
            }
            long handle = nextHandle++;
            Tensor tensor = new Tensor(handle, bytes, memory);
            tensors.put(handle, tensor);
            scopes.peek().tensors.add(tensor);
            return handle;
        } finally {
            unlockAndSend();
        }
    }

    @Override
    public void regData(Coordinate target, long handle, byte[] data) {
        checkChild(target);
        Message.RegData message;
        lock.lock();
        try {
            Tensor tensor = tensors.get(handle);
            if (tensor == null || tensor.freed) {
                throw new ClusterException("regData: tensor handle " + handle + " is unknown or freed");
            }
            if (data.length != tensor.size) {
                throw new ClusterException("regData: tensor " + handle + " holds " + tensor.size + " bytes, got "
                        + data.length);
            }
            Version current = tensor.current;
            if (current.producer != null && !current.producer.done() || !current.readers.isEmpty()) {
                throw new ClusterException("regData: tensor " + handle + " is in use by tasks that have not retired");
            }
            tensor.registered = data.clone();
            Version registered = new Version(null);
            registered.holder = target;
            tensor.current = registered;
            tensor.holders.add(target);
            message = new Message.RegData(handle, scopes.size() - 1, tensor.registered);
        } finally {
            unlockAndSend();
        }
        // Acknowledged before returning: a consumer's lookup on another connection must find the bytes there.
        transport.store(target, message);
    }

    @Override
    public void freeTensor(long handle) {
        lock.lock();
        try {
            Tensor tensor = tensors.get(handle);
            if (tensor == null || tensor.freed) {
                throw new ClusterException("freeTensor: tensor handle " + handle + " is unknown or already freed");
            }
            tensor.freed = true;
            tensor.ownerReleased = true;
            freeIfDead(tensor);
        } finally {
            unlockAndSend();
        }
    }

    @Override
    public void waitAll(Duration timeout) {
        lock.lock();
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Task running = null;
                for (long id = oldest; id < nextId; id++) {
                    Task task = slot(id);
                    if (!task.done()) {
                        running = task;
                        break;
                    }
                }
                if (running == null) {
                    return;
                }
                if (!await(deadline)) {
                    throw new ClusterException("waitAll on " + self + " timed out after " + timeout.toMillis()
                            + " ms: " + running.describe() + " is still " + running.state);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public TaskOutcome outcome(long taskId) {
        lock.lock();
        try {
            Task task = slotOf(taskId);
            if (task != null) {
                if (!task.done()) {
                    throw new ClusterException("task #" + taskId + " is still " + task.state);
                }
                return outcomeOf(task);
            }
            TaskOutcome kept = retiredOutcomes.get(taskId);
            if (kept == null) {
                throw new ClusterException("task #" + taskId + " is unknown or retired too long ago (the last "
                        + KEPT_OUTCOMES + " outcomes are kept)");
            }
            return kept;
        } finally {
            lock.unlock();
        }
    }

    private static TaskOutcome outcomeOf(Task task) {
        byte[] result;
        if (task.failed) {
            result = new byte[0];
        } else if (task.results.length == 1) {
            result = task.results[0];
        } else {
            int total = 0;
            for (byte[] part : task.results) {
                total += 4 + part.length;
            }
            java.nio.ByteBuffer joined = java.nio.ByteBuffer.allocate(total);
            for (byte[] part : task.results) {
                joined.putInt(part.length).put(part);
            }
            result = joined.array();
        }
        return new TaskOutcome(task.id, task.kernel, task.failed ? null : task.ranOn[0], !task.failed, result,
                task.error);
    }

    @Override
    public void orchestrationDone() {
        lock.lock();
        try {
            while (scopes.size() > 1) {
                endScope(scopes.pop());
            }
            Scope base = scopes.pop();
            endScope(base);
            scopes.push(new Scope());
        } finally {
            unlockAndSend();
        }
    }

    @Override
    public RingStats stats() {
        lock.lock();
        try {
            return new RingStats(submitted, retired, failed, rerun, ringWaits, heapWaits, poolWaits, tensorMapWaits,
                    (int) (nextId - oldest), heap.used(), pool.used(), tensors.size());
        } finally {
            lock.unlock();
        }
    }

    private Task slot(long id) {
        return slots[(int) (id & (slots.length - 1))];
    }

    private Task slotOf(long id) {
        if (id < oldest || id >= nextId) {
            return null;
        }
        Task task = slot(id);
        return task != null && task.id == id ? task : null;
    }

    private long deadline() {
        return System.nanoTime() + config.backPressureTimeout().toNanos();
    }

    /** Waits for a change; {@code false} when the deadline has passed. */
    private boolean await(long deadline) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        try {
            // Sends queued so far must go out before waiting, or the answers this wait needs never come.
            flushWhileLocked();
            changed.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterException("interrupted while waiting on the task ring of " + self);
        }
    }

    private void flushWhileLocked() {
        if (outbox.isEmpty()) {
            return;
        }
        List<Runnable> sends = new ArrayList<>(outbox);
        outbox.clear();
        lock.unlock();
        try {
            sends.forEach(Runnable::run);
        } finally {
            lock.lock();
        }
    }

    private void unlockAndSend() {
        List<Runnable> sends = outbox.isEmpty() ? List.of() : new ArrayList<>(outbox);
        outbox.clear();
        lock.unlock();
        for (Runnable send : sends) {
            send.run();
        }
    }
}
