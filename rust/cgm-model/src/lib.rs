//! A model of libcgm's transactional parameter change protocol as the code
//! implements it, checked exhaustively with [stateright] for three members
//! with up to two faults (crashes, false suspicions) and a network that
//! loses, reorders and duplicates messages, with ACKs sent member to member
//! or relayed through the coordinator, up to what each member's host is told;
//! and, with durable members ([`ChangeModel::durable`]), every member crashing
//! at once (a power cut) after any step and restarting from its disk; and,
//! as the one transaction instead of a parameter change, a node change that
//! removes members ([`ChangeModel::nodes`], see [Node changes](#node-changes)).
//!
//! This crate is proof documentation: it states what the change protocol
//! guarantees and under which faults, shows by an exhaustive search of every
//! interleaving that the code's rules keep those guarantees, and shows with
//! the [`Variant`]s that each safeguard of the code is needed: with any one
//! removed, the checker finds a counterexample.
//!
//! # What is modelled, and where it is in the code
//!
//! One parameter change ([`CHANGE`]) sequenced by the coordinator (node 1) of
//! a view of three members with quorum, run by every member as
//! `rust/cgm-core/src/engine.rs` runs it, and the view changes that follow
//! crashes and false suspicions, as `rust/cgm-core/src/membership.rs` runs
//! them, competing leaders included. In [`ChangeModel::nodes`] mode the
//! transaction is a node change ([`Txn::Remove`]: `ProtocolBody::Nodes`)
//! instead, run in the same two rounds with its own local step:
//!
//! | model | code |
//! | --- | --- |
//! | initial state: the coordinator sends the sequenced entry to 2 and 3 and starts the change | `Engine::progress` (`Msg::Sequenced`), `Engine::start_protocol` |
//! | [`Msg::Sequenced`] delivered: the member starts round 1 | `Engine::on_sequenced`, `Engine::progress`, `Engine::start_protocol` |
//! | round 1: an ACK `Received` to every member (views of three ACK member to member) | `Engine::start_round` (index 0), `Engine::send_ack`, `Engine::broadcast_ack` |
//! | [`ChangeModel::relayed`]: every ACK and every `Done` goes to the coordinator (node 1), which passes it on to the others ([`Msg::RelayedAck`], [`Msg::RelayedDone`]), its own too; a fenced coordinator passes nothing on (views of `cgm_core::messages::RELAY_FROM` members and more; the model runs three members that way) | `engine::relays_acks`, `Engine::broadcast_ack`, `Engine::on_member_ack`, `Engine::keep_for_relay`, `Engine::keep_marks`, `Engine::relay_acks`, `Engine::on_relayed_acks` |
//! | [`Msg::Ack`] delivered: last ACK round, stored status, missing count | `Engine::on_ack` (`Progress::acked`, the `Engine::acks` window, `Running::missing`) |
//! | a round completes when nobody is missing | `Engine::check_round` (only while `Engine::can_progress`) |
//! | round 2 starts: static check, local limits, veto hook | `Engine::start_round` (index 1) → `Tuning::round_two` (`Params::with_changes`, `LocalLimits::check`), `Engine::wait_on(Resource::Veto)` |
//! | round 2 of a node change ([`ChangeModel::nodes`]): the change must keep a majority of its view, then the member stages the node set it makes and ACKs OK, or ACKs the failure; no limit, no veto hook | `Engine::start_round` (`ProtocolBody::Nodes`, index 1) → [`NodeChange::keeps_majority_of`] (skipped by [`Variant::NewestSetOnly`], [`Variant::RemoveMajority`]), `Tuning::apply_nodes` ([`Roster::with_change`], [`Params::with_nodes`]; called here) |
//! | [`Action::Answer`]: the host approves or vetoes (a veto timeout is a veto) | `Engine::complete_local_wait`, `Engine::on_timeout` |
//! | local apply: remember the old values, apply the new | `Engine::apply_change` → `Tuning::apply` (the staged values) |
//! | round 2 completes: the verdict on every member's status | `Engine::check_round`, `Engine::finish` → [`cgm_core::round_verdict`] (called here; in `change`) |
//! | a commit keeps the values, a rollback restores the remembered ones; the member has decided, and reports nothing yet | `Engine::conclude` → `Tuning::conclude`, `Engine::decide` (`Engine::unreported`) |
//! | the member that decided tells the others of its view, unless fenced: [`Msg::Done`] to each (or to the coordinator, relaying) | `Core::pump` → `Engine::send_marks` (`Msg::Done`, `Marks::done`) |
//! | [`Msg::Done`] delivered: the member notes the sender decided; once every other member of its view did and it decided too, it reports its outcome to its host ([`MemberState::reported`]) | `Engine::on_marks` (`Progress::marked`), `Engine::report_stable`, `Engine::stable` (`progress::stable_mark`), `Engine::report_upto` (`Event::Completed`) |
//! | [`Action::Crash`]: a member stops for good | a node process dying |
//! | a member whose host was told values whose node set leaves it out (a committed removal, reported) leaves: it takes no further part, as if crashed, which is no fault ([`MemberState::left`]); the others see it gone and lead a view change without it ([`Action::Lead`]) | `Core::follow_node_set` (`Event::Removed`), `Core::leave` (`Msg::Leave`), `Membership::on_leave_msg` |
//! | [`Action::Notice`] ([`ChangeModel::nodes`] mode): a member suspects a member of its view that installed a view without it (no fault: its heartbeats and ACKs stopped) and, the lowest not suspected, leads a view change without it | `Ring::timeout`, `Net::on_timeout` in `Core::handle_timeout`, `Membership::suspect`, `Membership::maybe_lead` |
//! | [`Action::Lead`]: the lowest member of a view not suspected, with a crashed member in it, starts a view change without the suspects, fenced, with its own report | `Membership::maybe_lead`, `Membership::start_gathering`, `Membership::fence`, `Membership::report` |
//! | [`Action::Suspect`]: a member suspects a live member of its view (a false suspicion, a leader's report or acceptance deadline included) and, the lowest not suspected, leads a view change without it | `Membership::suspect`, `Membership::on_timeout`, `Membership::maybe_lead`, `Membership::start_gathering` |
//! | [`Action::Prepare`]: a member takes a `Prepare` above its promise, drops its own view change, is fenced, and reports, as if the views it accepted were installed | `Membership::on_prepare`, `Membership::report`, `Membership::report_of`, `Engine::running_report`, `Membership::on_prepare_ack` |
//! | [`Action::Refuse`]: a member that promised a later view change refuses; the leader gathers again above that promise | `Membership::on_prepare` (`Msg::PrepareRefused`), `Membership::on_prepare_refused` |
//! | with every report in, the leader decides; it installs a view without quorum, and accepts one with quorum | `Membership::try_decide` → [`cgm_core::decide_view`] (called here, with `Quorum::Joint`; `Quorum::NewestSetOnly` in [`Variant::NewestSetOnly`] and [`Variant::NewestSetQuorum`]), `Membership::accept`, `Membership::install` |
//! | [`Action::NewView`]: the `NewView` reaches a member that promised it: it installs a view without quorum, and accepts one with quorum (fenced until it installs) and answers `Accepted` | `Membership::on_new_view`, `Membership::accept`, `Membership::install` |
//! | [`Action::Accepted`]: an acceptance reaches the leader; with every member's, it sends `Install` and installs | `Membership::on_accepted`, `Membership::install_accepted` |
//! | [`Action::Install`]: the `Install` reaches a member whose last accepted view it is: it takes the state of the views that one builds on, then installs it | `Membership::on_install`, `Membership::install_accepted`, `Membership::install`, `Membership::take_view_state`, `resolve`, `Engine::install` |
//! | installing a view with quorum: a member of its lineage (`NewView::base`) reports what it decided and had not reported; one outside it drops that and takes the lineage's outcome; a member the view resolves the change for reports that; the proposer learns the fate of its proposal | `take_lineage`: `Engine::settle_unreported`, `resolve` (`Event::Completed`, `Engine::adopt`), `learn_decided` (`Event::OutcomeLearned`) |
//! | durable mode: after every step, and inside a step before the output that depends on it (a promise before the report, an acceptance before `Accepted`, a decision before the `Done` marks), each live member's [`Persisted`] state is rewritten from its state | `Core::poll_persist` (nothing leaves the core until the host took it) → `Membership::save` (promise, primary, its members, accepted views), `Engine::save` (completed, last outcome, committed values, what the host was told) |
//! | [`Action::PowerCut`]: every live member crashes at once, after any step (at most one member crashed alone before) | a power cut: every node process dies, unsynced writes lost (the host persisted before anything left) |
//! | [`Action::Restart`]: a crashed member comes back from its [`Persisted`] state only, in a new incarnation, alone in a view without quorum, its decision and restored values kept for its reports, running the values its host was last told | `Core::restore` → `Membership::restore` (`Membership::restored`), `Engine::restore` (`Engine::told_values`, `Engine::reported_generation`) |
//! | [`Action::Join`]: the lowest of a view's members and a restarted member outside it gather a view change of them all; the leader drops `Prepare`s to an old incarnation; the view has quorum if a majority of the lineage's top view is carried: the same incarnation, or restarted with that view on its disk (`Report::durable`) | `Membership::on_join`, `Membership::maybe_lead`, `Core::learn_incarnation`, `Core::handle_datagram` (`to_inc`); [`cgm_core::decide_view`]'s `restarted` closure, for the top view only (called here) |
//! | a durable member refuses a `NewView` whose generation is behind what its host was told | `Engine::reported_generation` in `Membership::on_new_view` |
//! | [`Action::Persist`] ([`Variant::PersistAfterSend`] only): the host persists late, after the marks left | the `send-before-persist` flaw (`cgm_sim` durable scenarios) |
//!
//! The decisions that make the protocol safe are not re-implemented: the
//! model calls [`cgm_core::round_verdict`] (the last round's verdict, on
//! every member) and [`cgm_core::decide_view`] (the view change leader's
//! decision from the survivors' [`Report`]s, which the model builds field by
//! field as `Membership::report` does: a member holding accepted views reports its
//! state as if they were installed, their top as its primary and that one's
//! `NewView::ancestors` as its `ancestors`), and the local step calls
//! [`Params::with_changes`] and [`LocalLimits::check`], or, for a node
//! change, [`NodeChange::keeps_majority_of`], [`Roster::with_change`] and
//! [`Params::with_nodes`]. The rest mirrors the
//! code function by function, as the table says and each function's
//! documentation repeats. One field is the model's own:
//! [`MemberView::lineage`] records every view with quorum whose state a
//! member took (the code keeps only the last), to state that views with
//! quorum never fork ([`ONE_LINEAGE`]).
//!
//! # Persistence points, and what the durable mode bounds
//!
//! In [`ChangeModel::durable`] mode every member keeps a [`Persisted`]
//! copy of what the code's `cgm_core::Durable` holds: its incarnation, its
//! promise, the lineage it installed (the code keeps the top view and its
//! members; the model the whole lineage, as [`MemberView::lineage`]), the
//! views it accepted, its decision if it completed the change, the values
//! it committed and those its host was last told. The code's rule is that
//! `Core::poll_persist` hands the host the new durable state before any
//! datagram or event that depends on it, and the host writes it before
//! draining them; the model rewrites a live member's copy inside the step
//! right before the output that depends on it (the promise before the
//! report, the acceptance before `Accepted`, the decision before the `Done`
//! marks) and at the end of every step (an install, what the host was
//! told). So a crash between any two steps finds on disk everything that
//! left the member. [`Variant::PersistAfterSend`] defers the write after a
//! decision to a later step ([`Action::Persist`]), as the code's
//! `send-before-persist` flaw did, and the checker finds a told outcome
//! lost. The copy is not part of the view change leader's report snapshots
//! (nothing reads a disk there).
//!
//! The durable state space with crashes and restarts at any point exceeds
//! 11 GB, so the mode is bounded to the scenario the claim is about,
//! every member crashing at once: at most one member crashes alone
//! ([`Action::Crash`]), then, after any step, a power cut
//! ([`Action::PowerCut`]) crashes every live member; restarts come only
//! after it, one per member (nobody crashes after it), and after it one
//! view change runs at a time (a member leads, by [`Action::Join`] or
//! [`Action::Lead`], only when no view change is under way and no
//! `NewView`, `Accepted` or `Install` is in flight): competing leaders are
//! checked without durable state, and with them after the power cut the
//! space passes 8 GB again. Members apply at once or refuse by a local
//! limit ([`Setup::Plain`], [`Setup::Tight`]; a veto hook adds states and
//! nothing a disk keeps), no false suspicion; ACKs member to member and,
//! in a second check, relayed. A restart before the power cut (a member
//! rejoining live ones) is not explored: it lets view changes compete
//! before the cut, and a search with it still grew by half at each depth
//! at 170,000 states, a third of the way down.
//!
//! # What the model abstracts, and why that is sound
//!
//! - **The network** is a set of messages that only grows: delivering a
//!   message leaves it in the set, so any message can be delivered any number
//!   of times (duplication), in any order (reordering), or never (loss). The
//!   code's reliable channels (`reliable.rs`: retransmission, in-order
//!   delivery and a sequence-number dedupe) give more than that, so the
//!   engine is shown safe even without them. Messages to a crashed member
//!   are dropped; messages a member sent before it crashed may still arrive.
//!   ACKs to a member that completed the change are dropped too: an ACK
//!   changes nothing there (a relaying coordinator passed each on as it came
//!   in); the `Done`s it waits for to report are not. A `Done` is delivered
//!   at most once: marks only ever raise what a member heard, so a duplicate
//!   changes nothing. Marks reaching a member that reported are dropped,
//!   except at a relaying coordinator, which passes them on. A member that installs a new view drops every
//!   message of the old one still addressed to it (`Membership::accepts`,
//!   `Membership::defer_or_drop`). A member sends only to members in its own
//!   view; the code also sends to members yet to install it, which defer the
//!   message and replay it when they do. In this scope nobody sends from a
//!   view other than the first: a view with quorum resolves the change, and
//!   a member of a view without quorum only answers its host, which with a
//!   veto hook happens only in a view of one member (with hooks only crashes
//!   are explored, see below).
//! - **View change messages.** A `Prepare` and the report it is answered
//!   with are one step ([`Action::Prepare`]): the member is fenced the moment
//!   it reports, so nothing it does between reporting and the leader
//!   receiving the report can reach the decision. A `Prepare` is delivered
//!   only while its leader gathers: a member promising a leader that has
//!   moved on is only fenced longer. The `NewView`, `Accepted` and `Install`
//!   are messages per member, each delivered at most once (the reliable
//!   channel's dedupe), in any order or never, so members accept and install
//!   at different times, a leader can crash or move on with some members
//!   accepted and not installed, and an `Install` can reach a member that
//!   meanwhile promised a later view change. A refused `Prepare`
//!   ([`Action::Refuse`]) lets a leader outbid a competing one.
//! - **Faults.** At most [`ChangeModel::max_faults`] (two) per run, crashes
//!   and false suspicions together. A crash is crash-stop, at any point, the
//!   coordinator and view change leaders included; every member suspects a
//!   crashed member, and the lowest one it does not suspect leads unless it
//!   waits for a live leader's view change. A false suspicion
//!   ([`Action::Suspect`]) is explored only when it makes the suspecting
//!   member lead (in the code, a suspicion passed on by `Msg::Suspect` makes
//!   the lowest member not suspected lead, which the model explores as that
//!   member's own suspicion); two of them let members 1 and 2 suspect each other, or member
//!   1 suspect 3 while 2 suspects 1, and gather from the same view at once,
//!   with member 3 or 2 reporting to both. False suspicions are explored in
//!   the runs where every host applies at once ([`Setup::Plain`]): competing
//!   views can only differ when one may commit, which takes every status OK,
//!   while a failed status makes every view abandon; the failure and veto
//!   paths are explored with crashes. Three faults, or false suspicions with
//!   every setup, multiply the states beyond this crate's budget (three
//!   faults with plain hosts alone exceed 1.3 million states against
//!   270,000 for two). Outside [`ChangeModel::durable`] mode a crash is for
//!   good; there, restarts with a new incarnation and joins are explored
//!   after a power cut (see above). The forced re-run of an unchanged
//!   membership (a leader outside the view went silent) is out of scope.
//! - **One protocol** runs (sequence 1, global rounds 1 and 2). Earlier and
//!   later protocols, ACKs ahead (`Engine::ack_horizon`) and state transfer to
//!   joiners do not enter a parameter change's decision.
//! - **Marks** are `Marks::done` of this one protocol: a member ACKs no more
//!   once it decided, so the marks its ACKs carry all say "nothing decided"
//!   and only [`Msg::Done`] says "decided". `Marks::told` and the fates table
//!   it prunes (`Fates`, `NewView::fates`) decide which proposals may run
//!   again, not any outcome: not modelled. A member that installs a view
//!   with quorum starts marks afresh (`Engine::install`) but, the change
//!   resolved or dropped there, has nothing left to report in this scope.
//! - **What a host is told** is one value per member ([`Reported`]): the
//!   outcome of `Event::Completed`, or of `Event::OutcomeLearned` for the
//!   proposer (node 1) when its lineage decided without it.
//! - **Relayed ACKs** ([`ChangeModel::relayed`]): the code keeps ACKs and
//!   marks a little and passes a batch on (`Msg::Acks`); the model passes
//!   each on at once in a message of its own, which the network may delay:
//!   a batch is some of those delivered together, and kept ACKs a fence
//!   clears are relays lost. The view of three relays as if it had
//!   `RELAY_FROM` members: the coordinator's rules do not depend on the
//!   size, and four members are beyond this crate's budget.
//! - **Round-1 statuses** are not stored: they are all `Received`, and the
//!   view change rule ignores the statuses of members that had not reached
//!   the last round. A round-1 report lists `Received` for itself and for
//!   the members whose round-1 ACK counts as received.
//! - **A failure** is one [`Status::Failed`]: why a member failed (out of
//!   range, a local limit, a veto, a veto timeout) changes no decision.
//! - **Local setups** ([`Setup`]) are the initial states: every combination
//!   of "applies at once", "veto hook" (the host approves or vetoes at any
//!   point, a fenced member's host too) and "a `[limits]` bound below the
//!   change" on the three members: 27 initial states in one search.
//!
//! # Why the ancestors rule has no variant
//!
//! `decide_view` also requires a majority of every view in the base reports'
//! `ancestors`. In this scope that rule never changes a decision, so removing
//! it cannot fail (`decide_view` run with and without the ancestors decided
//! the same quorum in the first 1.3 million states of a search with three
//! faults). Every
//! view change leaves out at least one member of its leader's view, so every
//! view after the first has at most two members; with quorum, exactly two (a
//! majority of the three nodes); and one built on a view of two must hold
//! both. So past the first view (all three nodes) every view with quorum of
//! a lineage has the same two members, and a view holding a majority of its
//! lineage's top holds a majority of each ancestor. The rule binds when a
//! lineage's views hold other incarnations (restarts) or more members
//! (joins), which only the durable mode explores, with the code's rule and
//! no variant without it. With node changes the same holds under the code's
//! rule: once node 3 is removed, a view with quorum holds a majority of
//! {1, 2}, so both; only [`Variant::NewestSetOnly`] lets a view of one have
//! quorum, and it fails on the node sets first.
//!
//! # Node changes
//!
//! The cluster's node set is one of the committed values
//! ([`Params::nodes`]), so a node change ([`ChangeModel::nodes`]) is the
//! model's one transaction run as the code runs it
//! (`ProtocolBody::Nodes`): round 1 receipt; round 2 checks that the
//! change keeps a majority of its view ([`NodeChange::keeps_majority_of`])
//! and stages the node set it makes ([`Roster::with_change`],
//! [`Params::with_nodes`]); the verdict commits only if every status is OK
//! (generation 1) and an undo restores {1, 2, 3}. Every property above is
//! checked unchanged, and the values it compares are whole [`Params`], the
//! node set with them; a view change that resolves a node change in flight
//! whose statuses are all OK commits it inside `decide_view`. The view
//! change rule is `Quorum::Joint`: a majority of every node set the
//! lineage's reports hold and of the one a node change in flight would put
//! in force, and of the lineage's top view; every node of those sets
//! present is quorum too.
//!
//! Two things enter the model with node changes:
//! - **A removed member leaves.** Once its host is told the commit (the
//!   outcome is final), a removed member leaves the group
//!   ([`MemberState::left`]: as if crashed, no fault), and the others go on
//!   without it. Modelled because the code does it; it is not needed for
//!   the properties: without it the code (removing 3) and
//!   [`Variant::RemoveMajority`] keep every `always` property too (517,730
//!   and 649,753 states), only [`NODES_LEAVE`] is then never reached.
//! - **A member left out notices** ([`Action::Notice`], no fault): a
//!   member suspects a member of its view that installed a view without it,
//!   as its ring and retransmission timeouts do. Without it a member left
//!   out moves only by a further false suspicion, and the harmful fork
//!   below takes three faults: with two, [`Variant::NewestSetOnly`] then
//!   violates [`ONE_LINEAGE`] only in the harmless way described below,
//!   and never [`REPORTED_FINALITY`] (374,516 states, exhaustive).
//!
//! What the checker finds, with up to two faults (crashes or false
//! suspicions), ACKs member to member, hosts that apply at once (a node
//! change has no limit and no veto hook, so false suspicions are explored
//! in every run):
//!
//! | check | removes | finds |
//! | --- | --- | --- |
//! | [`Variant::Code`]: `Quorum::Joint` and `keeps_majority_of` | node 3 ([`REMOVE_ONE`]) | every property kept, 516,304 states (depth 30); with relayed ACKs too (299,491 states, checked once, not in the tests) |
//! | [`Variant::Code`] | nodes 2 and 3 ([`REMOVE_TWO`]) | every member refuses it in round 2 and it is undone everywhere (621,693 states, checked once); the code's proposer refuses it before (`Core::propose_node_change`) |
//! | [`Variant::NewestSetOnly`]: neither safeguard | nodes 2 and 3 | a fork ([`ONE_LINEAGE`], depth 15, about 307,000 states), and hosts told different outcomes ([`REPORTED_FINALITY`], depth 15) |
//! | [`Variant::RemoveMajority`]: `Quorum::Joint` only | nodes 2 and 3 | every property kept (615,364 states), and the member kept goes on alone ([`NODES_KEPT_STUCK`] never reached: its set {1} is all present) |
//! | [`Variant::NewestSetQuorum`]: `keeps_majority_of` only | node 3 | every property kept (683,780 states) |
//!
//! The finality counterexample of [`Variant::NewestSetOnly`] is the
//! simulator's `cut_off_after_committing_a_removal` among three members:
//! node 1 holds every OK status and commits the removal of 2 and 3 (its node
//! set is now {1}) while its own status never reaches them; 2 suspects 1
//! falsely and gathers {2, 3}; 3 reports and accepts; 3 crashes; 2
//! installs {2, 3} with quorum (the newest set of its lineage is still
//! {1, 2, 3}) and abandons the change, its host told "rolled back"; 1
//! notices 2 went on without it and gathers {1} (3 crashed): its set is
//! {1} and every node of it is present, so {1} has quorum, and installing
//! it over 1's own state tells 1's host "committed". Under the code's rule
//! the view {1} needs a majority of the top view {1, 2, 3}, and the view
//! {2, 3} one of {1}, the set 1's change would put in force: neither has
//! quorum. The shortest [`ONE_LINEAGE`] counterexample is milder: 2 and 3,
//! in a view without 1, pool every OK status and commit the removal of
//! themselves, 2 is told and leaves, and 1, left with the set {1}, has
//! quorum alone too: a fork of views whose values agree, where the view
//! {2, 3} has no member left to decide anything else.
//!
//! Each safeguard alone keeps every property in this scope: the joint rule
//! needs no limit on what one change removes for safety (the members it
//! removes undo it only in views that need a majority of the set it would
//! put in force, which they are not in); with at most a minority removed, the
//! newest set alone is safe among three members, because the set the
//! change keeps ({1, 2}) is still a majority of the old one, so any two
//! views with quorum under either set meet. Both results are bounded by
//! the scope: three members, one change, two faults; larger views, where a
//! minority of the view can be a majority of the node set, or changes that
//! add nodes, are not explored.
//!
//! # What is proven (for [`Variant::Code`])
//!
//! In every reachable state (properties `always`):
//! - **agreement**: no two live members of the lineage decide differently
//!   (a live member is out of the lineage once some member installed a later
//!   view with quorum without it: see the limitation below);
//! - **one lineage**: the views with quorum that members installed, crashed
//!   members included, form one chain: of any two members, one's views are
//!   the start of the other's ([`ONE_LINEAGE`]);
//! - **validity**: a member commits only if every member, crashed or not,
//!   applied the change successfully (a failed apply, a local limit or a
//!   veto never commits);
//! - **values follow the outcome**: a member that committed holds the new
//!   values (generation 1), one that rolled back holds exactly the old ones
//!   (generation 0): the undo restores what was there;
//! - **settled members agree**: live members of the lineage not in the
//!   middle of the change hold identical parameters and generation;
//! - **no outcome is overruled**: a view change never records, for a member
//!   that completed the change and reported (or is of the lineage, and so
//!   reports at install), an outcome other than its own;
//! - **reported finality** ([`REPORTED_FINALITY`]): every member whose host
//!   was told an outcome, crashed or excluded members included, was told the
//!   same one; every decision standing agrees with it (only what a crashed
//!   or excluded member decided and never reported may not); and every
//!   settled live member of the lineage holds its values.
//!
//! Both with ACKs member to member and with [`ChangeModel::relayed`] ACKs.
//! In [`ChangeModel::durable`] mode the same properties hold when every
//! member crashes at once after any step and restarts from its disk (and a
//! restarted member whose host was told an outcome runs its values), and it
//! is reachable that the restarted members resume the lineage with quorum
//! holding the outcome a host was told ([`DURABLE_EVERY_CRASH`]), and that a
//! member left out while crashed rejoins with its disk behind
//! ([`DURABLE_REJOIN`]). In [`ChangeModel::nodes`] mode the same
//! properties hold for a node change removing node 3, the node set checked
//! with the other values; and it is reachable that the removed member is
//! told and leaves and the members kept install a view with quorum without
//! it ([`NODES_LEAVE`]), and that a member that committed the removal and
//! was left out gets no quorum alone ([`NODES_ALONE`]).
//!
//! These are reachable (properties `sometimes`, showing the search is not
//! vacuous): a commit everywhere, a rollback everywhere after a failed apply,
//! a commit decided by a view change from pooled statuses, an abandon by a
//! view change, a survivor adopting the outcome another survivor completed,
//! a lone survivor without quorum left undecided (a view without quorum
//! decides nothing), competing leaders (a member promises a later view
//! change after reporting to a view change that decided with quorum), and a
//! member reporting as if the view it accepted were installed, every host
//! told once every member said it decided, a host told at the install that
//! adopts what its member decided, and a host told at the install that
//! resolves the change its member was running.
//!
//! # The limitation the model makes visible, and why no host sees it
//!
//! A member that holds every OK status commits at once. If it then crashes
//! before its own round-2 status reaches anyone, the survivors cannot tell it
//! from a member whose apply failed, and abandon the change. The `sometimes`
//! property [`LIMITATION`] shows this run exists. It is the blocking case of
//! every two-phase commit, whose only alternative is to wait for the crashed
//! member forever. Agreement is therefore stated for live members: what a
//! crashed member decided dies with it (a restarted node takes the
//! survivors' parameters by state transfer before it takes part). A member
//! excluded while alive (a false suspicion) is in the crashed member's
//! position until it rejoins and takes the lineage's parameters:
//! [`LIMITATION_EXCLUDED`] shows it commits while the lineage rolls back, so
//! agreement is stated for the members of the lineage.
//!
//! Such a decision is never reported: a member tells its host only once
//! every member of its view said it decided too (then any later view with
//! quorum holds a member that carries the outcome, and adopts it), or at the
//! install of a view with quorum that builds on its own state. The committed
//! member above hears no `Done` from the survivors, which never decide in
//! its view, so its host is told nothing; [`REPORTED_FINALITY`] holds in
//! every state. The code before that rule told the host at decision time,
//! and the host of the member that committed was told "committed" for a
//! change the cluster undid: [`Variant::ReportOnDecision`] finds that run.
//!
//! # Why relaying while fenced has no failing variant
//!
//! [`Variant::RelayWhileFenced`] keeps every property: among three members
//! the fence on relaying changes no outcome. A relayed ACK can complete a
//! round only at a member that is not fenced itself (`Engine::can_progress`):
//! one that has not reported to the view change yet, and so reports the
//! outcome it completed, which the view change adopts, or one the view
//! change leaves out, in the excluded member's position above. Relayed
//! marks let a member report only an outcome every member of the view
//! decided, which any view change adopts. The fence keeps a fenced
//! coordinator's view from moving on while it is being replaced; the model
//! cannot show a run that needs it (four members or more, where the code
//! relays, are beyond this crate's budget), so the variant is checked to
//! stay safe here and is not counted among those that must fail.
#![forbid(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]

use cgm_core::messages::{Decided, Entry, NewView, Report, RunningReport};
use cgm_core::{decide_view, round_verdict, LocalLimits, NodeChange, NodeId, Param, Params, Quorum, Roster};
use cgm_core::{AckStatus, Member, Outcome, ProposalId, ProtocolBody, ViewId};
use stateright::{Checker, HasDiscoveries, Model, Property};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

/// Members of the modelled view (node ids 1, 2 and 3; node 1 coordinates).
pub const MEMBERS: usize = 3;

/// The member (index) that proposed the change: node 1, the coordinator.
const PROPOSER: usize = 0;

/// The change every run proposes: a heartbeat interval and a fragment size,
/// both valid everywhere, the fragment size beyond a [`Setup::Tight`]
/// member's local limit.
pub const CHANGE: [(Param, u64); 2] = [(Param::HeartbeatInterval, 500), (Param::MaxFragmentSize, 2000)];

/// The local limit of a [`Setup::Tight`] member on the fragment size.
const TIGHT_FRAGMENT_LIMIT: u64 = 1500;

/// The name of the `sometimes` property that shows the two-phase-commit
/// limitation (see the crate documentation): a member committed and crashed,
/// and the survivors rolled back.
pub const LIMITATION: &str = "limitation (inherent): a member commits, crashes, and the survivors roll back";

/// The name of the `sometimes` property that shows the same limitation for a
/// member excluded while alive: it committed, a false suspicion left it out of
/// the lineage, and the lineage rolled back.
pub const LIMITATION_EXCLUDED: &str = "limitation (inherent): a member commits, is excluded alive, and the lineage rolls back";

/// The name of the `always` property that what a host is told is final: every
/// member told reports the same outcome, and no standing decision, and no
/// settled member's values, contradict it.
pub const REPORTED_FINALITY: &str =
    "reported finality: every host told is told the same outcome, and no standing decision or settled values contradict it";

/// The name of the `always` property that two views with quorum never fork
/// the lineage.
pub const ONE_LINEAGE: &str = "one lineage: every view with quorum installed descends from every earlier one";

/// The name of the `sometimes` property of [`ChangeModel::durable`] mode
/// that a member whose disk is behind rejoins: it crashed alone, the others
/// installed a view with quorum without it, and after the power cut it
/// restarted and installed a view with quorum of that lineage.
pub const DURABLE_REJOIN: &str =
    "reachable (durable): a member left out while crashed restarts with its disk behind and rejoins the lineage with quorum";

/// The name of the `sometimes` property of [`ChangeModel::durable`] mode
/// that every member crashed, and restarted members resumed the lineage in a
/// view with quorum that holds the outcome a host was told before.
pub const DURABLE_EVERY_CRASH: &str =
    "reachable (durable): every member crashes, and restarted members resume the lineage with quorum, holding the outcome reported before";

/// The name of the `sometimes` property of [`ChangeModel::nodes`] mode that
/// a removed member is told, leaves, and the members kept go on without it.
pub const NODES_LEAVE: &str =
    "reachable (nodes): a removed member is told the commit and leaves, and a member kept installs a view with quorum without it";

/// The name of the `sometimes` property of [`ChangeModel::nodes`] mode that
/// a member that committed the removal and was left out by the others (the
/// limitation's position) gathers a view of itself and gets no quorum.
pub const NODES_ALONE: &str = "reachable (nodes): a member commits the removal, the others go on without it, and alone it gets no quorum";

/// The name of the `sometimes` property of [`ChangeModel::nodes`] mode that,
/// without any fault, the removal committed everywhere, every removed member
/// left, and the members kept sit in a view of their own without quorum: a
/// removal of a majority of the view could lead there, and does not under
/// the code's rule (never reached, even by [`Variant::RemoveMajority`]: the
/// node set the removal leaves, all present, has quorum).
pub const NODES_KEPT_STUCK: &str =
    "reachable (nodes): without a fault, every member commits, the removed ones leave, and the members kept install a view of their own without quorum";

/// The node id of member index `i`.
fn node(i: usize) -> NodeId {
    NodeId::try_from(i + 1).expect("three members")
}

/// The member index of node `id`.
fn index(id: NodeId) -> usize {
    usize::try_from(id).expect("a small node id") - 1
}

/// Member index `i` as a view member in incarnation `inc` (1 until it
/// restarts, see [`Action::Restart`]).
fn member(i: usize, inc: u64) -> Member {
    Member { id: node(i), inc }
}

/// Members (indices) in their incarnations `incs` as view members.
fn members(of: &[usize], incs: &[u64]) -> Vec<Member> {
    of.iter().zip(incs).map(|(&j, &inc)| member(j, inc)).collect()
}

/// The node change that removes one member, node 3, from the node set
/// {1, 2, 3}: the most [`NodeChange::keeps_majority_of`] lets one change
/// remove from a view of three.
pub const REMOVE_ONE: &[NodeId] = &[3];

/// The node change that removes two members, nodes 2 and 3, from the node
/// set {1, 2, 3}: a majority of the view, which
/// [`NodeChange::keeps_majority_of`] refuses (and `Core::propose_node_change`
/// before it); only the variants that skip that check run it.
pub const REMOVE_TWO: &[NodeId] = &[2, 3];

/// The transaction the coordinator sequences in every run of a
/// [`ChangeModel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Txn {
    /// The parameter change [`CHANGE`] (`ProtocolBody::Change`).
    Params,
    /// A node change removing these nodes from the node set {1, 2, 3}
    /// (`ProtocolBody::Nodes`, kind `node-change`): [`REMOVE_ONE`] or
    /// [`REMOVE_TWO`].
    Remove(&'static [NodeId]),
}

impl Txn {
    /// The node change, if it is one.
    fn node_change(self) -> Option<NodeChange> {
        match self {
            Txn::Params => None,
            Txn::Remove(ids) => Some(NodeChange { add: Vec::new(), remove: ids.to_vec() }),
        }
    }

    /// The protocol body the coordinator sequences.
    fn body(self) -> ProtocolBody {
        match self.node_change() {
            None => ProtocolBody::Change(CHANGE.to_vec()),
            Some(c) => ProtocolBody::Nodes(c),
        }
    }

    /// The sequenced entry of the transaction, as `Engine::progress` makes it.
    fn entry(self) -> Entry {
        Entry { seq: 1, pid: ProposalId { node: 1, txid: 1 }, body: self.body() }
    }

    /// The values a commit leaves: the changed parameters, or the node set
    /// with the change applied (`Roster::with_change`, `Params::with_nodes`,
    /// as `Tuning::apply_nodes` stages them).
    fn new_params(self) -> Params {
        let old = old_params();
        match self.node_change() {
            None => old.with_changes(&CHANGE).expect("the modelled change is valid"),
            Some(c) => old.with_nodes(old.nodes().with_change(&c).expect("the modelled node change fits {1, 2, 3}")),
        }
    }
}

/// The values every member starts with: the default parameters, among the
/// three members as the node set.
fn old_params() -> Params {
    Params::default().with_nodes(Roster::of_ids((0..MEMBERS).map(node)).expect("three members"))
}

/// The statuses `Engine::check_round` hands to `Engine::finish`: each member's
/// round-2 status, or the implied one (`Received` for a change) when none
/// arrived.
fn last_round_statuses(round2: &[Option<Status>; MEMBERS]) -> Vec<(NodeId, AckStatus)> {
    (0..MEMBERS).map(|j| (node(j), round2[j].map_or(AckStatus::Received, Status::ack))).collect()
}

/// How a member's host meets the change at its local apply (its `Config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Setup {
    /// No limits and no veto hook: the member applies at once.
    Plain,
    /// `Config::veto_hook`: the member waits on [`cgm_core::Resource::Veto`]
    /// and the host approves or vetoes whenever it likes ([`Action::Answer`]).
    Hook,
    /// `Config::limits` bounds the fragment size below the change: the
    /// member's local check fails at once.
    Tight,
}

impl Setup {
    /// Every setup.
    pub const ALL: [Setup; 3] = [Setup::Plain, Setup::Hook, Setup::Tight];

    /// The member's local limits.
    fn limits(self) -> LocalLimits {
        let mut l = LocalLimits::default();
        if self == Setup::Tight {
            l.set(Param::MaxFragmentSize, TIGHT_FRAGMENT_LIMIT);
        }
        l
    }
}

/// The code's protocol, or the code with one safeguard removed. Every variant
/// but [`Variant::Code`], [`Variant::RelayWhileFenced`],
/// [`Variant::RemoveMajority`] and [`Variant::NewestSetQuorum`] must fail a
/// property: that shows the checker, and each safeguard, has teeth (see the
/// crate documentation for why relaying while fenced cannot fail among three
/// members, and why either node change safeguard alone keeps the
/// properties).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The protocol as the code implements it.
    Code,
    /// Each survivor decides the view change from its own report alone,
    /// instead of from the reports of every survivor, pooled by the leader.
    NoPooling,
    /// The view change leader disregards the reports of members that already
    /// completed the change, and decides from the others alone.
    IgnoreCompleted,
    /// The view change presumes OK for every round-2 status no survivor
    /// holds, instead of counting it as missing (`AckStatus::Received`).
    UnknownPresumedOk,
    /// The last round commits on a majority of OK statuses instead of on no
    /// failure at all.
    MajorityCommit,
    /// A rollback leaves the applied values in place instead of restoring the
    /// remembered old ones.
    NoUndo,
    /// Every ACK delivered counts toward completing a round, a duplicate too,
    /// instead of only the first ACK of that round from each member (the
    /// `Progress::acked` check in `Engine::on_ack`).
    NoDedupe,
    /// A member that reported to a view change leader goes on completing
    /// rounds of the old view, instead of being fenced until it installs the
    /// new view (`Membership::fenced_by` in `Engine::can_progress`).
    NoFence,
    /// A view with quorum is installed as soon as it is decided, by its
    /// leader at once and by a member when the `NewView` arrives, instead of
    /// only once every member accepted it (`Msg::Accepted`, `Msg::Install`):
    /// the code before the two-step install.
    InstallOnDecide,
    /// A member reports the outcome to its host as soon as it decides it,
    /// instead of once it is final (every member of the view said it decided
    /// it too, or a view with quorum whose lineage holds the member installs):
    /// the code before `Engine::report_stable`.
    ReportOnDecision,
    /// A fenced coordinator of a view that relays ACKs goes on passing ACKs
    /// and marks on, instead of passing nothing on (the fence checks in
    /// `Engine::keep_for_relay`, `Engine::keep_marks` and `Engine::relay_acks`).
    /// Checked in [`ChangeModel::relayed`] mode.
    RelayWhileFenced,
    /// A durable member sends its `Done` marks before its decision is on
    /// stable storage: the persist is a later step of its own
    /// ([`Action::Persist`]), so a crash in between loses the decision from
    /// disk though the others heard it (the code's `send-before-persist`
    /// flaw, instead of `Core::poll_persist` holding every datagram and
    /// event back until the host persisted). Checked in
    /// [`ChangeModel::durable`] mode.
    PersistAfterSend,
    /// A view change counts only the node set of the lineage's most advanced
    /// member (the base report that completed the most) and takes every node
    /// of that set present as quorum, the top view's members not needed
    /// (`decide_view` run with `Quorum::NewestSetOnly` instead of
    /// `Quorum::Joint`), and round 2 of a node change skips
    /// `NodeChange::keeps_majority_of`, so one change may remove a majority
    /// of its view: the simulator's `newest-set-only` flaw. Checked with
    /// [`ChangeModel::nodes`] removing [`REMOVE_TWO`].
    NewestSetOnly,
    /// Only the second half of [`Variant::NewestSetOnly`]: round 2 of a node
    /// change skips `NodeChange::keeps_majority_of`, the view change keeps
    /// the code's rule (`Quorum::Joint`). Checked with [`ChangeModel::nodes`]
    /// removing [`REMOVE_TWO`].
    RemoveMajority,
    /// Only the first half of [`Variant::NewestSetOnly`]: `decide_view` runs
    /// with `Quorum::NewestSetOnly`, round 2 keeps
    /// `NodeChange::keeps_majority_of`. Checked with [`ChangeModel::nodes`]
    /// removing [`REMOVE_ONE`] (the most that check lets through).
    NewestSetQuorum,
}

impl Variant {
    /// Which node sets `decide_view` counts.
    fn quorum(self) -> Quorum {
        match self {
            Variant::NewestSetOnly | Variant::NewestSetQuorum => Quorum::NewestSetOnly,
            _ => Quorum::Joint,
        }
    }

    /// Whether round 2 of a node change checks that it keeps a majority of
    /// its view (`NodeChange::keeps_majority_of`).
    fn checks_majority_kept(self) -> bool {
        !matches!(self, Variant::NewestSetOnly | Variant::RemoveMajority)
    }

    /// Every variant, the code's first.
    pub const ALL: [Variant; 15] = [
        Variant::Code,
        Variant::NoPooling,
        Variant::IgnoreCompleted,
        Variant::UnknownPresumedOk,
        Variant::MajorityCommit,
        Variant::NoUndo,
        Variant::NoDedupe,
        Variant::NoFence,
        Variant::InstallOnDecide,
        Variant::ReportOnDecision,
        Variant::RelayWhileFenced,
        Variant::PersistAfterSend,
        Variant::NewestSetOnly,
        Variant::RemoveMajority,
        Variant::NewestSetQuorum,
    ];
}

/// A member's round-2 status, as its ACK carries it (`AckStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Applied (`AckStatus::Ok`).
    Ok,
    /// Static check, local limit or veto failed (`AckStatus::Failed`).
    Failed,
}

impl Status {
    /// The wire status this stands for.
    fn ack(self) -> AckStatus {
        match self {
            Status::Ok => AckStatus::Ok(Default::default()),
            Status::Failed => AckStatus::Failed("local apply failed".into()),
        }
    }
}

/// Where a member is in the change (`Engine::running` and its `Step`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The change has not reached the member (or never will: a view change
    /// found nobody that had it).
    Idle,
    /// Running round `index + 1` of the change.
    Running {
        /// The round index within the change (`Running::round_index`):
        /// 0 is receipt, 1 is status.
        index: u8,
        /// Whether the member waits on its host's veto answer
        /// (`Step::Local`); else it has sent its ACK for the round and waits
        /// for the others (`Step::Acked`).
        vetting: bool,
    },
    /// The member completed the change.
    Done,
}

/// How a member came to its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decider {
    /// By completing round 2 itself (`Engine::finish`).
    LastRound,
    /// By a view change that decided the change in flight from the
    /// survivors' pooled statuses.
    ViewChange,
    /// By a view change that handed it the outcome another survivor had
    /// completed.
    Adopted,
}

/// A member's outcome of the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Committed (else rolled back or abandoned).
    pub committed: bool,
    /// How the member decided.
    pub by: Decider,
}

/// How a member's host was told the outcome (`Event::Completed`, or
/// `Event::OutcomeLearned` for the proposer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Teller {
    /// Every member of its view said it decided the change too
    /// (`Engine::report_stable`, `Engine::report_upto`).
    Marks,
    /// A view with quorum whose lineage holds the member adopted what it
    /// decided (`Engine::settle_unreported`).
    Settled,
    /// A view with quorum resolved the change the member was running, or had
    /// not completed while its lineage had (`resolve`).
    Resolved,
    /// The proposer learned the fate its lineage decided for its proposal
    /// (`resolve`, `learn_decided`: `Event::OutcomeLearned`).
    Learned,
    /// At decision time ([`Variant::ReportOnDecision`]).
    Decision,
}

/// What a member's host was told of the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reported {
    /// Committed (else rolled back or abandoned).
    pub committed: bool,
    /// How it was told.
    pub by: Teller,
}

/// A view with quorum, as a lineage lists it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Primary {
    /// Its id.
    pub id: ViewId,
    /// Its members, in the incarnations it holds them.
    pub members: Vec<Member>,
}

impl Primary {
    /// Whether it holds member index `i` (in any incarnation).
    fn holds(&self, i: usize) -> bool {
        self.members.iter().any(|m| index(m.id) == i)
    }
}

/// The view a member has installed (`Membership::view`) and the lineage its
/// state descends from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemberView {
    /// Its id.
    pub id: ViewId,
    /// Its members (indices).
    pub members: Vec<usize>,
    /// Their incarnations, in the same order.
    pub incs: Vec<u64>,
    /// Whether it has quorum.
    pub quorum: bool,
    /// The views with quorum whose state the member took, oldest first. The
    /// last is its lineage's top (`Membership::primary` and
    /// `primary_members`); the code keeps only that one, the model keeps the
    /// ones before to check that views with quorum never fork
    /// ([`ONE_LINEAGE`]).
    pub lineage: Vec<Primary>,
}

impl MemberView {
    /// The last view with quorum the member installed.
    fn primary(&self) -> &Primary {
        self.lineage.last().expect("every member starts in a view with quorum")
    }

    /// The incarnation in which it holds member index `j`, if it does.
    fn inc_of(&self, j: usize) -> Option<u64> {
        self.members.iter().position(|&k| k == j).map(|p| self.incs[p])
    }
}

/// What a durable member has on stable storage (`cgm_core::Durable`), as
/// the host last persisted it (`Core::poll_persist`; `Membership::save`,
/// `Engine::save`): what [`Action::Restart`] rebuilds the member from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Persisted {
    /// The incarnation that wrote it (`Durable::incarnation`).
    pub inc: u64,
    /// Its promise (`Durable::promised`).
    pub promised: ViewId,
    /// The views with quorum it installed, the last one its primary
    /// (`Durable::primary`, `primary_members`; the model keeps the ones
    /// before, see [`MemberView::lineage`]).
    pub lineage: Vec<Primary>,
    /// The views with quorum it accepted and had not installed (`Durable::accepted`).
    pub accepted: Vec<NewViewMsg>,
    /// Its decision, if it completed the change (`Durable::completed`,
    /// `Durable::last_outcome`).
    pub decided: Option<Decision>,
    /// The committed values and generation (`Tuning::committed`, or what
    /// it restored and has not handed on: `Durable::params`, `generation`).
    pub values: (Params, u64),
    /// The values and generation its host was last told (`Durable::told`,
    /// `Durable::reported_generation`).
    pub told: (Params, u64),
}

/// One member's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemberState {
    /// How its host meets the change.
    pub setup: Setup,
    /// Whether it crashed.
    pub crashed: bool,
    /// Where it is in the change.
    pub phase: Phase,
    /// The last round (1 or 2; 0: none) whose ACK arrived from each member
    /// (`Progress`'s ACK rounds; its own entry unused).
    pub last_ack: [u8; MEMBERS],
    /// Members, itself included, whose ACK for the current round is missing
    /// (`Running::missing`).
    pub missing: u8,
    /// The round-2 status it holds from each member, itself included (the
    /// round-2 entries of `Engine::acks`).
    pub round2: [Option<Status>; MEMBERS],
    /// Its parameters in force.
    pub params: Params,
    /// The values before its local apply, while the change runs
    /// (`Tuning::staged`).
    pub old_params: Option<Params>,
    /// Its parameter generation.
    pub generation: u64,
    /// Its outcome, once decided.
    pub decided: Option<Decision>,
    /// What its host was told of the change (`Engine::outcomes`: what
    /// `propose` returns), once the outcome is final.
    pub reported: Option<Reported>,
    /// The members of its view that said they decided the change
    /// (`Peer::marks`, `Marks::done`), until it reported: past that nothing
    /// they say changes anything here (its own entry unused).
    pub heard_done: [bool; MEMBERS],
    /// Set when a view change recorded for it an outcome other than the one
    /// it had completed with and reported, at that install or before
    /// (`Engine::adopt` overwriting its record); what a member outside the
    /// lineage decided and did not report is dropped instead.
    pub overruled: bool,
    /// The view it has installed.
    pub view: MemberView,
    /// The highest view change it accepted a `Prepare` for
    /// (`Membership::promised`): above its view, it is fenced.
    pub promised: ViewId,
    /// The live members of its view it suspects falsely
    /// (`Membership::suspects`; a crashed member is suspected by everyone).
    pub suspects: [bool; MEMBERS],
    /// The views with quorum it accepted and has not installed, oldest first
    /// (`Membership::accepted`).
    pub accepted: Vec<NewViewMsg>,
    /// Its incarnation (`Config::incarnation`): 1, and one more at each
    /// [`Action::Restart`].
    pub inc: u64,
    /// The incarnation of the leader it promised (`Membership::promised_inc`).
    pub promised_inc: u64,
    /// Whether it waits for the fate of its proposal (`Engine::outstanding`):
    /// the proposer, until it restarts (volatile).
    pub outstanding: bool,
    /// Restarted from stable storage and not yet handed the lineage's state
    /// by a view with quorum: the values and generation it had decided,
    /// which its reports carry (`Membership::restored`); meanwhile it runs
    /// the values its host was last told.
    pub restored: Option<(Params, u64)>,
    /// The values and generation its host was last told (`Engine::told_values`;
    /// kept in [`ChangeModel::durable`] mode only).
    pub told: (Params, u64),
    /// Whether it keeps durable state (`Config::durable`: [`ChangeModel::durable`] mode).
    pub durable: bool,
    /// In [`ChangeModel::durable`] mode, its state on stable storage as last
    /// persisted (`Core::poll_persist`); `None` without durable state, and
    /// in the snapshots a view change leader keeps of the reports (nothing
    /// reads a disk there: fewer distinct states).
    pub persisted: Option<Box<Persisted>>,
    /// [`Variant::PersistAfterSend`]: it decided and sent its marks, and
    /// its host has not persisted yet ([`Action::Persist`]).
    pub unpersisted: bool,
    /// A node change removed it, and its host was told: it left the group
    /// (`Core::follow_node_set`, `Core::leave`) and takes no further part,
    /// as if crashed ([`MemberState::crashed`] is set too; not a fault).
    pub left: bool,
}

impl MemberState {
    fn new(setup: Setup, view: MemberView) -> MemberState {
        MemberState {
            inc: 1,
            promised_inc: 1,
            outstanding: false,
            restored: None,
            told: (old_params(), 0),
            durable: false,
            persisted: None,
            unpersisted: false,
            left: false,
            setup,
            crashed: false,
            phase: Phase::Idle,
            last_ack: [0; MEMBERS],
            missing: 0,
            round2: [None; MEMBERS],
            params: old_params(),
            old_params: None,
            generation: 0,
            decided: None,
            reported: None,
            heard_done: [false; MEMBERS],
            overruled: false,
            promised: view.id,
            view,
            suspects: [false; MEMBERS],
            accepted: Vec::new(),
        }
    }

    /// `Engine::current_round`: the global round it works on or starts next.
    fn current_round(&self) -> u8 {
        match self.phase {
            Phase::Idle => 1,
            Phase::Running { index, .. } => index + 1,
            Phase::Done => 3,
        }
    }

    /// `Engine::my_ack_round`: the last round it ACKed.
    fn my_ack_round(&self) -> u8 {
        match self.phase {
            Phase::Idle => 0,
            Phase::Running { index, vetting } => index + u8::from(!vetting),
            Phase::Done => 2,
        }
    }

    /// Whether it completed the change (`Engine::completed` is 1).
    fn completed(&self) -> bool {
        self.phase == Phase::Done
    }

    /// `Membership::fenced_by`: it reported to a view change not installed
    /// yet (it may have accepted it).
    fn fenced(&self) -> bool {
        self.promised > self.view.id
    }

    /// The lineage it reports (`Membership::report`): that of the last view it
    /// accepted, else that of its installed state.
    fn reported_lineage(&self) -> &[Primary] {
        self.accepted.last().map_or(&self.view.lineage, |nv| &nv.lineage)
    }

    /// `Membership::take_view_state` with `take_lineage` (`Engine::settle_unreported`,
    /// `resolve`, `learn_decided`, `Engine::install`): the state a view with
    /// quorum hands its member `i`: what it decided and had not reported is
    /// reported if the lineage holds it and dropped if not, then its outcome
    /// for the change if the member knew it, then the lineage's parameters.
    /// One function for installing a view and for reporting as if an
    /// accepted one were installed, as in the code.
    fn take_view_state(&mut self, i: usize, nv: &NewViewMsg) {
        self.view.lineage.clone_from(&nv.lineage);
        self.restored = None;
        let in_lineage = nv.base.contains(&i);
        // `Engine::settle_unreported`: the view builds on this member's state,
        // so what it decided is the lineage's: final.
        if in_lineage && self.completed() && self.reported.is_none() {
            self.reported = self.decided.map(|d| Reported { committed: d.committed, by: Teller::Settled });
        }
        if let Some(committed) = nv.resolved {
            let by = if nv.adopted { Decider::Adopted } else { Decider::ViewChange };
            if matches!(self.phase, Phase::Running { .. }) || (in_lineage && !self.completed()) {
                self.decided = Some(Decision { committed, by });
                self.phase = Phase::Done;
                // A host told an outcome before (restarted, its disk lost
                // what it was told: [`Variant::PersistAfterSend`]) and now
                // another one.
                if self.reported.is_some_and(|r| r.committed != committed) {
                    self.overruled = true;
                }
                self.reported = Some(Reported { committed, by: Teller::Resolved });
            } else if self.decided.is_some_and(|d| d.committed != committed) {
                if self.reported.is_some() {
                    self.overruled = true;
                } else {
                    // Outside the lineage and not reported: dropped, and
                    // `Engine::adopt` records the lineage's outcome instead.
                    self.decided = Some(Decision { committed, by });
                }
            }
            // `Event::OutcomeLearned`: the proposer's proposal is outstanding
            // until its host is told its fate.
            if i == PROPOSER && self.outstanding && self.reported.is_none() {
                self.reported = Some(Reported { committed, by: Teller::Learned });
            }
        } else if !in_lineage && self.completed() {
            // Only with restarts: the lineage resolves nothing for the change
            // this member completed outside it. Either every member of the
            // lineage completed it (`NewView::fates`), or none of them knows
            // it (they restarted and lost it): `Engine::install` takes the
            // lineage's `completed`, and what this member decided and did
            // not report is dropped (`Engine::settle_unreported`).
            let same = nv.fate.is_some() && self.decided.map(|d| d.committed) == nv.fate;
            if !same {
                if self.reported.is_some() {
                    self.overruled = true;
                } else if let Some(committed) = nv.fate {
                    self.decided = Some(Decision { committed, by: Decider::Adopted });
                } else {
                    self.decided = None;
                    self.phase = Phase::Idle;
                }
            }
        }
        if matches!(self.phase, Phase::Running { .. }) {
            // A protocol of another lineage: superseded by the state transfer.
            self.phase = Phase::Idle;
        }
        self.old_params = None;
        self.params = nv.params.clone();
        self.generation = nv.generation;
        // `take_lineage`: `Engine::tell_values`.
        if self.durable {
            self.told = (nv.params.clone(), nv.generation);
        }
    }

    /// `Core::poll_persist` with `Membership::save` and `Engine::save`: the
    /// host writes the member's durable state (in [`ChangeModel::durable`]
    /// mode; deferred while [`MemberState::unpersisted`]).
    fn persist(&mut self) {
        if self.unpersisted {
            return;
        }
        let Some(p) = self.persisted.as_mut() else { return };
        **p = Persisted {
            inc: self.inc,
            promised: self.promised,
            lineage: self.view.lineage.clone(),
            accepted: self.accepted.clone(),
            decided: self.decided.filter(|_| self.phase == Phase::Done),
            values: self
                .restored
                .clone()
                .unwrap_or_else(|| (self.old_params.clone().unwrap_or_else(|| self.params.clone()), self.generation)),
            told: self.told.clone(),
        };
    }

    /// Whether it is settled: not in the middle of the change, nor restarted
    /// and waiting for a view with quorum to hand it the lineage's values.
    fn settled(&self) -> bool {
        !matches!(self.phase, Phase::Running { .. }) && self.restored.is_none()
    }

    /// The values its decisions stand for: those it runs, or, restarted and
    /// not yet handed the lineage's, those it restored (which it reports).
    fn values(&self) -> (Params, u64) {
        self.restored.clone().unwrap_or((self.params.clone(), self.generation))
    }

    /// `Membership::accept`: a view whose lineage holds member `i` builds on the
    /// views it accepted before; one whose lineage does not replaces them.
    fn accept(&mut self, i: usize, nv: NewViewMsg) {
        if !nv.base.contains(&i) {
            self.accepted.clear();
        }
        self.accepted.push(nv);
    }
}

/// A message of the change in flight (the part of `Msg` the change uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Msg {
    /// `Msg::Sequenced` from the coordinator to member `to`.
    Sequenced {
        /// The recipient (member index).
        to: usize,
    },
    /// `Msg::Ack` for global `round` (1 or 2) from `from` to `to`; round 1
    /// carries `Received` (`None`), round 2 the sender's status.
    Ack {
        /// The sender (member index).
        from: usize,
        /// The recipient (member index).
        to: usize,
        /// The round ACKed.
        round: u8,
        /// The status carried (round 2).
        status: Option<Status>,
    },
    /// `Msg::Done` from `from` to `to`: the sender decided the change
    /// (`Marks::done`). Its ACKs carry marks too, but in this one-protocol
    /// scope they all say "nothing decided yet": a member ACKs no more once
    /// it decided.
    Done {
        /// The sender (member index).
        from: usize,
        /// The recipient (member index).
        to: usize,
    },
    /// [`ChangeModel::relayed`] mode: `Msg::Acks` from the coordinator to
    /// `to`, passing on member `of`'s ACK (the coordinator's own included).
    /// The code batches ACKs in one message; one message per ACK only adds
    /// interleavings.
    RelayedAck {
        /// The member whose ACK it is (index).
        of: usize,
        /// The recipient (member index).
        to: usize,
        /// The round ACKed.
        round: u8,
        /// The status carried (round 2).
        status: Option<Status>,
    },
    /// [`ChangeModel::relayed`] mode: `Msg::Acks` from the coordinator to
    /// `to`, passing on member `of`'s marks: it decided the change.
    RelayedDone {
        /// The member that decided (index).
        of: usize,
        /// The recipient (member index).
        to: usize,
    },
}

impl Msg {
    fn to(self) -> usize {
        match self {
            Msg::Sequenced { to }
            | Msg::Ack { to, .. }
            | Msg::Done { to, .. }
            | Msg::RelayedAck { to, .. }
            | Msg::RelayedDone { to, .. } => to,
        }
    }

    /// Whether it says a member decided (else it runs the change).
    fn is_marks(self) -> bool {
        matches!(self, Msg::Done { .. } | Msg::RelayedDone { .. })
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Msg::Sequenced { to } => write!(f, "sequenced 1->{}", node(to)),
            Msg::Ack { from, to, round, status: None } => write!(f, "ack r{round} {}->{}", node(from), node(to)),
            Msg::Ack { from, to, round, status: Some(s) } => write!(f, "ack r{round} {s:?} {}->{}", node(from), node(to)),
            Msg::Done { from, to } => write!(f, "done {}->{}", node(from), node(to)),
            Msg::RelayedAck { of, to, round, status: None } => write!(f, "relayed ack r{round} of {} 1->{}", node(of), node(to)),
            Msg::RelayedAck { of, to, round, status: Some(s) } => {
                write!(f, "relayed ack r{round} {s:?} of {} 1->{}", node(of), node(to))
            }
            Msg::RelayedDone { of, to } => write!(f, "relayed done of {} 1->{}", node(of), node(to)),
        }
    }
}

/// A view change a leader runs (`Membership::gathering`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Gathering {
    /// The view change's id (its leader is `vid.leader`).
    pub vid: ViewId,
    /// The members it gathers (indices).
    pub members: Vec<usize>,
    /// Their incarnations, in the same order (a `Prepare` to an earlier
    /// incarnation is dropped: `Core::handle_datagram`'s `to_inc` check).
    pub incs: Vec<u64>,
    /// Each reporting member's state when it reported, until the leader
    /// decides (the [`Report`] is built from it then, as `Membership::report`
    /// builds it when the `Prepare` arrives).
    pub reports: BTreeMap<usize, MemberState>,
    /// Whether the leader decided a view with quorum and waits for every
    /// member to accept it.
    pub decided: bool,
    /// The members that accepted the decision.
    pub accepted_by: BTreeSet<usize>,
}

/// A `NewView` as the model keeps it: the parts of a [`NewView`] that
/// `Membership::install` and `Membership::report` read for this one-protocol scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NewViewMsg {
    /// The view's id.
    pub vid: ViewId,
    /// Its members (indices).
    pub members: Vec<usize>,
    /// Their incarnations, in the same order.
    pub incs: Vec<u64>,
    /// Whether it has quorum.
    pub quorum: bool,
    /// The lineage (indices).
    pub base: Vec<usize>,
    /// The members of the views a view built on this one before it is
    /// installed must hold a majority of (`NewView::ancestors`).
    pub ancestors: Vec<Vec<Member>>,
    /// The outcome resolved for the change, if any (`NewView::resolved`).
    pub resolved: Option<bool>,
    /// The lineage's decision of the change, if it has one (`NewView::fates`).
    pub fate: Option<bool>,
    /// The parameters every member takes.
    pub params: Params,
    /// Their generation.
    pub generation: u64,
    /// Whether the outcome came from a survivor that had completed the change.
    pub adopted: bool,
    /// The lineage the view builds on, and the view itself if it has quorum
    /// (model bookkeeping, see [`MemberView::lineage`]).
    pub lineage: Vec<Primary>,
}

impl NewViewMsg {
    /// The decision `nv`, built on the lineage `base_lineage`.
    fn new(nv: &NewView, adopted: bool, base_lineage: &[Primary]) -> NewViewMsg {
        let mut resolved = nv.resolved.iter().map(|o| {
            assert_eq!(o.seq, 1, "one protocol is modelled");
            o.committed
        });
        let outcome = resolved.next();
        assert!(resolved.next().is_none(), "one protocol is modelled");
        let indices = |of: &[Member]| of.iter().map(|m| index(m.id)).collect::<Vec<usize>>();
        let mut lineage = base_lineage.to_vec();
        if nv.quorum {
            lineage.push(Primary { id: nv.vid, members: nv.members.clone() });
        }
        NewViewMsg {
            vid: nv.vid,
            members: indices(&nv.members),
            incs: nv.members.iter().map(|m| m.inc).collect(),
            quorum: nv.quorum,
            base: nv.base.iter().map(|&id| index(id)).collect(),
            ancestors: nv.ancestors.clone(),
            resolved: outcome,
            fate: nv.fates.iter().find(|d| d.seq == 1).map(|d| d.committed),
            params: nv.params.clone(),
            generation: nv.generation,
            adopted,
            lineage,
        }
    }
}

/// The state of the modelled cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Every member, by index (node id - 1).
    pub members: [MemberState; MEMBERS],
    /// Messages of the change that may be delivered (each any number of times).
    pub net: BTreeSet<Msg>,
    /// The view change each member leads, if any, by leader index.
    pub gatherings: [Option<Gathering>; MEMBERS],
    /// `NewView`s sent and not delivered, by recipient and view id.
    pub new_views: BTreeMap<(usize, ViewId), NewViewMsg>,
    /// `Accepted`s sent and not delivered: the view id (its leader is the
    /// recipient) and the sender.
    pub accepts: BTreeSet<(ViewId, usize)>,
    /// `Install`s sent and not delivered: the view id (its leader is the
    /// sender) and the recipient.
    pub installs: BTreeSet<(ViewId, usize)>,
    /// Crashes so far.
    pub crashes: u8,
    /// False suspicions so far.
    pub suspicions: u8,
    /// Restarts so far ([`ChangeModel::durable`] mode).
    pub restarts: u8,
    /// Whether the power cut happened ([`Action::PowerCut`]).
    pub cut: bool,
}

impl State {
    /// `Membership::maybe_lead`'s membership for member `i`: the members of its
    /// view it does not suspect (a crashed member is suspected by everyone).
    fn candidates(&self, i: usize) -> Vec<usize> {
        let m = &self.members[i];
        m.view.members.iter().copied().filter(|&j| !self.gone(i, j) && !m.suspects[j]).collect()
    }

    /// Whether member `j` of member `i`'s view is gone: crashed, or
    /// restarted since (a new incarnation replaces the one the view holds:
    /// `Core::learn_incarnation`, `Net::replace_peer`).
    fn gone(&self, i: usize, j: usize) -> bool {
        self.members[j].crashed || self.members[i].view.inc_of(j).is_some_and(|inc| inc != self.members[j].inc)
    }

    /// Whether no view change is under way: nobody gathers, and no
    /// `NewView`, `Accepted` or `Install` is in flight.
    fn quiet(&self) -> bool {
        self.gatherings.iter().all(Option::is_none) && self.new_views.is_empty() && self.accepts.is_empty() && self.installs.is_empty()
    }

    /// The current incarnations of members `of`.
    fn incs(&self, of: &[usize]) -> Vec<u64> {
        of.iter().map(|&j| self.members[j].inc).collect()
    }

    /// `Membership::maybe_lead`: whether member `i` starts a view change of
    /// `members`: it is the lowest of them, and it does not already gather
    /// exactly them.
    fn would_lead(&self, i: usize, members: &[usize]) -> bool {
        members.first() == Some(&i) && self.gatherings[i].as_ref().is_none_or(|g| g.members != members || g.incs != self.incs(members))
    }

    /// `Membership::start_gathering`: the id of the next view change member `i` leads.
    fn next_vid(&self, i: usize) -> ViewId {
        let m = &self.members[i];
        ViewId { epoch: m.promised.epoch.max(m.view.id.epoch) + 1, leader: node(i) }
    }

    /// Whether member `i` waits for the view change of a live leader it does
    /// not suspect (that leader's deadline, `Membership::on_timeout`, comes
    /// before its own fence deadline).
    fn awaits(&self, i: usize) -> bool {
        let m = &self.members[i];
        let leader = index(m.promised.leader);
        m.fenced() && leader != i && !self.members[leader].crashed && self.members[leader].inc == m.promised_inc && !m.suspects[leader]
    }

    /// Whether member `i` was left out of its lineage while alive: some
    /// member installed a later view with quorum without it. Like a crashed
    /// member, it decides alone until it rejoins (out of scope).
    fn excluded(&self, i: usize) -> bool {
        let mine = &self.members[i].view.lineage;
        self.members.iter().flat_map(|m| &m.view.lineage).any(|p| !p.holds(i) && !mine.contains(p))
    }

    /// The live members of the lineage (not excluded).
    fn lineage_members(&self) -> impl Iterator<Item = &MemberState> {
        self.members.iter().enumerate().filter(|&(i, m)| !m.crashed && !self.excluded(i)).map(|(_, m)| m)
    }
}

/// A step of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Delivers a message (it stays in the network: it may come again).
    Deliver(Msg),
    /// The host of a member waiting on its veto hook answers.
    Answer {
        /// The member (index).
        member: usize,
        /// Approve (else veto).
        approve: bool,
    },
    /// A member crashes.
    Crash(usize),
    /// [`ChangeModel::durable`] mode: every live member crashes at once (a
    /// power cut), after any step.
    PowerCut,
    /// [`ChangeModel::durable`] mode: a crashed member restarts from what it
    /// persisted, with a new incarnation, in a view of its own without
    /// quorum (`Core::restore`, `Membership::restore`, `Engine::restore`).
    Restart(usize),
    /// [`ChangeModel::durable`] mode: the lowest of the members of its view
    /// it does not suspect and a restarted member `with` outside it (in a
    /// view without quorum) leads view change `vid` of them all: the join
    /// of a restarted member (`Membership::on_join`, `Membership::maybe_lead`).
    Join {
        /// The restarted member (index).
        with: usize,
        /// The view change (its leader is `vid.leader`).
        vid: ViewId,
    },
    /// [`Variant::PersistAfterSend`]: the host of a member persists, late.
    Persist(usize),
    /// The leader of `vid` suspects the crashed members of its view and
    /// starts a view change without them.
    Lead {
        /// The view change (its leader is `vid.leader`).
        vid: ViewId,
    },
    /// The leader of `vid` suspects a live member `of` (falsely) and starts a
    /// view change without it.
    Suspect {
        /// The member suspected (index).
        of: usize,
        /// The view change (its leader is `vid.leader`).
        vid: ViewId,
    },
    /// [`ChangeModel::notice`]: the leader of `vid` suspects member `of` of
    /// its view, which installed a view without it (no fault: its
    /// heartbeats and ACKs stopped, `Ring::timeout`, `Net::on_timeout`), and
    /// starts a view change without it.
    Notice {
        /// The member gone on without it (index).
        of: usize,
        /// The view change (its leader is `vid.leader`).
        vid: ViewId,
    },
    /// The `Prepare` of `vid` reaches `member`, which promises it, is fenced,
    /// and reports to its leader.
    Prepare {
        /// The member (index).
        member: usize,
        /// The view change.
        vid: ViewId,
    },
    /// The `Prepare` of `vid` reaches `member`, which promised a later view
    /// change and refuses; the leader starts over above that promise.
    Refuse {
        /// The member (index).
        member: usize,
        /// The view change refused.
        vid: ViewId,
    },
    /// The `NewView` of `vid` reaches `member`.
    NewView {
        /// The member (index).
        member: usize,
        /// The view.
        vid: ViewId,
    },
    /// The `Accepted` of `member` for `vid` reaches the view's leader.
    Accepted {
        /// The member that accepted (index).
        member: usize,
        /// The view.
        vid: ViewId,
    },
    /// The `Install` of `vid` reaches `member`.
    Install {
        /// The member (index).
        member: usize,
        /// The view.
        vid: ViewId,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::Deliver(m) => write!(f, "{m}"),
            Action::Answer { member, approve: true } => write!(f, "host {} approves", node(member)),
            Action::Answer { member, approve: false } => write!(f, "host {} vetoes", node(member)),
            Action::Crash(i) => write!(f, "{} crashes", node(i)),
            Action::PowerCut => write!(f, "power cut: every live member crashes"),
            Action::Restart(i) => write!(f, "{} restarts from its disk", node(i)),
            Action::Join { with, vid } => write!(f, "{} leads view change {vid} to take in restarted {}", vid.leader, node(with)),
            Action::Persist(i) => write!(f, "host {} persists", node(i)),
            Action::Lead { vid } => write!(f, "{} leads view change {vid}", vid.leader),
            Action::Suspect { of, vid } => write!(f, "{} suspects {} (falsely) and leads view change {vid}", vid.leader, node(of)),
            Action::Notice { of, vid } => write!(f, "{} notices {} went on without it and leads view change {vid}", vid.leader, node(of)),
            Action::Prepare { member, vid } => write!(f, "{} reports to {vid}", node(member)),
            Action::Refuse { member, vid } => write!(f, "{} refuses {vid}", node(member)),
            Action::NewView { member, vid } => write!(f, "NewView {vid} reaches {}", node(member)),
            Action::Accepted { member, vid } => write!(f, "Accepted {vid} from {} reaches {}", node(member), vid.leader),
            Action::Install { member, vid } => write!(f, "Install {vid} reaches {}", node(member)),
        }
    }
}

/// The model: the change protocol of [`Variant`] among [`MEMBERS`] members,
/// with up to `max_faults` faults (crashes and false suspicions together),
/// of which up to `max_suspicions` false suspicions.
#[derive(Clone, Debug)]
pub struct ChangeModel {
    /// The protocol checked.
    pub variant: Variant,
    /// Crashes and false suspicions allowed per run, together (two crashes
    /// leave one member, without quorum; two false suspicions let members 1
    /// and 2 lead competing view changes). With [`ChangeModel::power_cut`],
    /// the single crashes before the power cut.
    pub max_faults: u8,
    /// False suspicions allowed per run (0: view changes start only for
    /// crashed members). They are explored in the runs where every host
    /// applies at once ([`Setup::Plain`]; see the crate documentation).
    pub max_suspicions: u8,
    /// Whether the view routes ACKs and marks through its coordinator (node
    /// 1), as views of `cgm_core::messages::RELAY_FROM` members and more do
    /// (`engine::relays_acks`), instead of member to member.
    pub relay: bool,
    /// The [`Setup`]s each member's host is explored with.
    pub setups: &'static [Setup],
    /// Restarts allowed per run: with any, members keep durable state
    /// (`Config::durable`) and a crashed member may restart from it
    /// ([`Action::Restart`]); 0: a crash is for good.
    pub max_restarts: u8,
    /// Durable mode bounded to the power cut ([`Action::PowerCut`]): at
    /// most [`ChangeModel::max_faults`] single crashes before it, no crash
    /// after it, and restarts only after it, at most one per member.
    pub power_cut: bool,
    /// The transaction every run sequences: the parameter change
    /// [`CHANGE`], or a node change ([`ChangeModel::nodes`]).
    pub txn: Txn,
    /// Whether a member that sees a member of its view go on in a view
    /// without it suspects that one ([`Action::Notice`]: its heartbeats and
    /// ACKs stopped), which is no fault. On in [`ChangeModel::nodes`] mode,
    /// where the member a view change left out holds a node set of its own.
    pub notice: bool,
}

impl ChangeModel {
    /// The model of `variant` with up to two faults, crashes or false
    /// suspicions.
    pub fn new(variant: Variant) -> ChangeModel {
        ChangeModel {
            variant,
            max_faults: 2,
            max_suspicions: 2,
            relay: variant == Variant::RelayWhileFenced,
            setups: &Setup::ALL,
            max_restarts: 0,
            power_cut: false,
            txn: Txn::Params,
            notice: false,
        }
    }

    /// The model of `variant` running a node change that removes `remove`
    /// from the node set {1, 2, 3} ([`Txn::Remove`]), with up to two faults,
    /// crashes or false suspicions, and members that suspect a member gone
    /// on without them ([`ChangeModel::notice`]); a removed member whose host
    /// is told leaves ([`MemberState::left`]). A node change has no local
    /// limit and no veto hook: every host applies at once ([`Setup::Plain`]),
    /// so false suspicions are explored in every run. ACKs member to member.
    pub fn nodes(variant: Variant, remove: &'static [NodeId]) -> ChangeModel {
        ChangeModel { setups: &[Setup::Plain], txn: Txn::Remove(remove), notice: true, ..ChangeModel::new(variant) }
    }

    /// The model of `variant` with durable members, bounded to the power
    /// cut: at most one member crashes alone, then, after any step, every
    /// live member crashes at once ([`Action::PowerCut`]), and after that
    /// every member may restart from stable storage, once
    /// ([`Action::Restart`]), and rejoin ([`Action::Join`]), one view change
    /// at a time; hosts that apply at once or refuse the change by a local
    /// limit ([`Setup::Plain`], [`Setup::Tight`]), ACKs member to member
    /// (set [`ChangeModel::relay`] for relayed ones), no false suspicion.
    pub fn durable(variant: Variant) -> ChangeModel {
        ChangeModel {
            max_faults: 1,
            max_suspicions: 0,
            setups: &[Setup::Plain, Setup::Tight],
            max_restarts: MEMBERS as u8,
            power_cut: true,
            relay: false,
            ..ChangeModel::new(variant)
        }
    }

    /// Whether members keep durable state.
    fn is_durable(&self) -> bool {
        self.max_restarts > 0
    }

    /// The model of `variant` with ACKs and marks relayed through the
    /// coordinator, with up to two faults, crashes or false suspicions.
    pub fn relayed(variant: Variant) -> ChangeModel {
        ChangeModel { relay: true, ..ChangeModel::new(variant) }
    }

    /// `engine::Cx::coordinator`: the first member of member `i`'s view.
    fn coordinator(s: &State, i: usize) -> usize {
        s.members[i].view.members[0]
    }

    /// Whether member `j` takes messages of view `view`: alive and in it
    /// (`Membership::accepts`; a member of another view drops or defers
    /// them, and in this scope nobody sends from a later view).
    fn listens(members: &[MemberState; MEMBERS], j: usize, view: ViewId) -> bool {
        !members[j].crashed && members[j].view.id == view
    }

    /// `Engine::can_progress`: a live member of a view with quorum, not fenced.
    fn can_progress(&self, m: &MemberState) -> bool {
        !m.crashed && m.view.quorum && (!m.fenced() || self.variant == Variant::NoFence)
    }

    /// `Engine::start_protocol`: the member starts the change at round 1.
    fn start_protocol(&self, s: &mut State, i: usize) {
        s.members[i].phase = Phase::Running { index: 0, vetting: false };
        self.start_round(s, i);
    }

    /// `Engine::start_round`: counts who ACKed the round already, then runs the
    /// member's local step (round 1: none; round 2: checks, veto, apply).
    fn start_round(&self, s: &mut State, i: usize) {
        let m = &mut s.members[i];
        let Phase::Running { index, .. } = m.phase else { unreachable!("a round starts in a running change") };
        let round = index + 1;
        let behind = (0..MEMBERS).filter(|&j| j != i && m.last_ack[j] < round).count();
        m.missing = 1 + u8::try_from(behind).expect("three members");
        if index == 0 {
            return self.send_ack(s, i, None);
        }
        if let Some(change) = self.txn.node_change() {
            // `Engine::start_round` for `ProtocolBody::Nodes`: the change must
            // keep a majority of the view it runs in (`Running::members`: the
            // first view, every node), then `Tuning::apply_nodes` stages the
            // node set it makes; no limit, no veto hook.
            let view: Vec<NodeId> = (0..MEMBERS).map(node).collect();
            let kept = if self.variant.checks_majority_kept() { change.keeps_majority_of(&view) } else { Ok(()) };
            return match kept.and_then(|()| m.params.nodes().with_change(&change)) {
                Ok(nodes) => {
                    let staged = m.params.with_nodes(nodes);
                    m.old_params = Some(std::mem::replace(&mut m.params, staged));
                    self.send_ack(s, i, Some(Status::Ok))
                }
                Err(_) => self.send_ack(s, i, Some(Status::Failed)),
            };
        }
        match m.params.with_changes(&CHANGE).and_then(|_| m.setup.limits().check(&CHANGE)) {
            Err(_) => self.send_ack(s, i, Some(Status::Failed)),
            Ok(()) if m.setup == Setup::Hook => m.phase = Phase::Running { index, vetting: true },
            Ok(()) => self.apply_change(s, i),
        }
    }

    /// `Engine::apply_change`: remembers the old values, applies the new ones.
    fn apply_change(&self, s: &mut State, i: usize) {
        let m = &mut s.members[i];
        match m.params.with_changes(&CHANGE) {
            Ok(new) => {
                m.old_params = Some(m.params.clone());
                m.params = new;
                self.send_ack(s, i, Some(Status::Ok));
            }
            Err(_) => self.send_ack(s, i, Some(Status::Failed)),
        }
    }

    /// `Engine::send_ack` with `Engine::broadcast_ack`: records its own ACK,
    /// sends it to every other member (of its view, alive), and completes
    /// the round if nobody else is missing.
    fn send_ack(&self, s: &mut State, i: usize, status: Option<Status>) {
        let m = &mut s.members[i];
        let Phase::Running { index, .. } = m.phase else { unreachable!("an ACK is sent in a running change") };
        m.phase = Phase::Running { index, vetting: false };
        m.missing = m.missing.saturating_sub(1);
        let round = index + 1;
        if round == 2 {
            m.round2[i] = status;
        }
        let view = m.view.id;
        let coordinator = Self::coordinator(s, i);
        if self.relay && coordinator == i {
            // `Engine::broadcast_ack`: the coordinator keeps its own ACK with
            // the others' to pass on.
            self.keep_for_relay(s, i, Msg::RelayedAck { of: i, to: i, round, status });
        } else {
            let to_all = !self.relay;
            for j in (0..MEMBERS)
                .filter(|&j| j != i && (to_all || j == coordinator) && !s.members[j].completed() && Self::listens(&s.members, j, view))
            {
                s.net.insert(Msg::Ack { from: i, to: j, round, status });
            }
        }
        self.check_round(s, i);
    }

    /// `Engine::keep_for_relay`, `Engine::keep_marks` and `Engine::relay_acks`:
    /// the coordinator `c` passes `msg` (an ACK or marks of member `of`) on
    /// to every other member but `of`; a fenced coordinator passes nothing
    /// on. The code keeps them a little and passes a batch on; a relay sent
    /// at once and delayed in the network covers every such timing, and
    /// kept ACKs dropped at the fence are a relay lost.
    fn keep_for_relay(&self, s: &mut State, c: usize, msg: Msg) {
        if s.members[c].fenced() && self.variant != Variant::RelayWhileFenced {
            return;
        }
        let view = s.members[c].view.id;
        let of = match msg {
            Msg::RelayedAck { of, .. } | Msg::RelayedDone { of, .. } => of,
            _ => unreachable!("only ACKs and marks are relayed"),
        };
        for j in (0..MEMBERS).filter(|&j| j != c && j != of && Self::listens(&s.members, j, view)) {
            let relayed = match msg {
                Msg::RelayedAck { round, status, .. } if !s.members[j].completed() => Msg::RelayedAck { of, to: j, round, status },
                Msg::RelayedDone { .. } if s.members[j].reported.is_none() => Msg::RelayedDone { of, to: j },
                _ => continue,
            };
            s.net.insert(relayed);
        }
    }

    /// `Engine::on_ack`: an ACK for `round` from `from` arrives at `i`.
    fn on_ack(&self, s: &mut State, i: usize, from: usize, round: u8, status: Option<Status>) {
        let m = &mut s.members[i];
        let before = m.last_ack[from];
        m.last_ack[from] = before.max(round);
        let cur = m.current_round();
        if round == 2 && round >= cur && round <= cur.max(m.my_ack_round()) + 2 {
            m.round2[from] = status;
        }
        if let Phase::Running { index, .. } = m.phase {
            let r = index + 1;
            let counts = match self.variant {
                Variant::NoDedupe => round >= r,
                _ => before < r && round >= r,
            };
            if counts {
                m.missing = m.missing.saturating_sub(1);
            }
        }
        self.check_round(s, i);
    }

    /// `Engine::check_round`: completes the current round if nobody is missing;
    /// round 1 moves on to round 2, round 2 ends the change (`Engine::finish`).
    fn check_round(&self, s: &mut State, i: usize) {
        let m = &mut s.members[i];
        if !self.can_progress(m) {
            return;
        }
        let Phase::Running { index, vetting: false } = m.phase else { return };
        if m.missing > 0 {
            return;
        }
        if index == 0 {
            m.phase = Phase::Running { index: 1, vetting: false };
            return self.start_round(s, i);
        }
        let statuses = last_round_statuses(&m.round2);
        let committed = match self.variant {
            Variant::MajorityCommit => 2 * statuses.iter().filter(|(_, st)| matches!(st, AckStatus::Ok(_))).count() > MEMBERS,
            _ => round_verdict(&statuses).is_ok(),
        };
        self.conclude(m, committed);
        // `Core::poll_persist`: the decision is on disk before the marks
        // leave; with the flaw, the host persists in a later step.
        if self.variant == Variant::PersistAfterSend && m.durable {
            m.unpersisted = true;
        }
        m.persist();
        // No ACK that reaches a member that completed the change changes it
        // (a relaying coordinator passed each on as it came in): only what
        // the others decided counts now.
        s.net.retain(|msg| msg.to() != i || msg.is_marks());
        self.send_marks(s, i);
        self.report_stable(s, i);
    }

    /// `Engine::send_marks` (in `Core::pump`, right after the decision): member
    /// `i` tells the others of its view it decided: with `Msg::Done` to each,
    /// or, in a view that relays, to the coordinator, which passes it on. A
    /// fenced member, or one in a view without quorum, sends no marks.
    fn send_marks(&self, s: &mut State, i: usize) {
        let m = &s.members[i];
        if !m.view.quorum || m.fenced() {
            return;
        }
        let view = m.view.id;
        let coordinator = Self::coordinator(s, i);
        if self.relay && coordinator == i {
            return self.keep_for_relay(s, i, Msg::RelayedDone { of: i, to: i });
        }
        let to_all = !self.relay;
        for j in (0..MEMBERS).filter(|&j| j != i && (to_all || j == coordinator) && Self::listens(&s.members, j, view)) {
            // Marks to a member that reported change nothing there, unless
            // it has them to pass on.
            if s.members[j].reported.is_none() || (self.relay && j == coordinator) {
                s.net.insert(Msg::Done { from: i, to: j });
            }
        }
    }

    /// `Engine::on_marks`: member `i` hears that member `from` decided; the
    /// coordinator of a relaying view passes that on (if `relay`).
    fn on_marks(&self, s: &mut State, i: usize, from: usize, relay: bool) {
        if relay && self.relay && Self::coordinator(s, i) == i {
            self.keep_for_relay(s, i, Msg::RelayedDone { of: from, to: i });
        }
        if s.members[i].reported.is_none() {
            s.members[i].heard_done[from] = true;
            self.report_stable(s, i);
        }
    }

    /// `Engine::report_stable` with `Engine::stable` and `Engine::report_upto`:
    /// member `i`, in a view with quorum, tells its host the outcome it
    /// decided once every other member of its view said it decided it too.
    /// It need not be unfenced: every member of the view holds the outcome,
    /// so any later view with quorum adopts it.
    fn report_stable(&self, s: &mut State, i: usize) {
        let m = &mut s.members[i];
        if m.reported.is_some() || !m.view.quorum || !m.completed() {
            return;
        }
        let Some(d) = m.decided else { return };
        if m.view.members.iter().all(|&j| j == i || m.heard_done[j]) {
            m.reported = Some(Reported { committed: d.committed, by: Teller::Marks });
            if m.durable {
                m.told = (m.params.clone(), m.generation);
            }
            m.heard_done = [false; MEMBERS];
            if !(self.relay && Self::coordinator(s, i) == i) {
                s.net.retain(|msg| msg.to() != i);
            }
        }
    }

    /// `Engine::conclude`: a commit keeps the applied values and moves the
    /// generation, a rollback restores the remembered ones.
    fn conclude(&self, m: &mut MemberState, committed: bool) {
        let old = m.old_params.take();
        if committed {
            m.generation += 1;
        } else if let Some(old) = old.filter(|_| self.variant != Variant::NoUndo) {
            m.params = old;
        }
        m.phase = Phase::Done;
        m.missing = 0;
        m.last_ack = [0; MEMBERS];
        m.decided = Some(Decision { committed, by: Decider::LastRound });
        if self.variant == Variant::ReportOnDecision {
            m.reported = Some(Reported { committed, by: Teller::Decision });
        }
    }

    /// `Membership::report`: what member `i` (in state `m`) reports to a view
    /// change leader: its state as it would be with the views it accepted
    /// installed, and then the last one's ancestors.
    fn report(&self, i: usize, m: &MemberState) -> Report {
        let Some(top) = m.accepted.last() else { return self.report_of(i, m, Vec::new()) };
        let mut as_if = m.clone();
        for nv in &m.accepted {
            as_if.take_view_state(i, nv);
        }
        self.report_of(i, &as_if, top.ancestors.clone())
    }

    /// `Membership::report_of` with `Engine::running_report`: the report of member
    /// `i` in state `m`.
    fn report_of(&self, i: usize, m: &MemberState, ancestors: Vec<Vec<Member>>) -> Report {
        let running = match m.phase {
            Phase::Running { index, .. } => {
                let last_round = (0..MEMBERS)
                    .filter_map(|j| match index {
                        0 if j == i || m.last_ack[j] >= 1 => Some((node(j), AckStatus::Received)),
                        0 => None,
                        _ => m.round2[j].map(|st| (node(j), st.ack())),
                    })
                    .collect();
                Some(RunningReport { entry: self.txn.entry(), round_index: index, last_round, members: (0..MEMBERS).map(node).collect() })
            }
            _ => None,
        };
        let next_round = match m.phase {
            Phase::Running { index, .. } => u64::from(index) + 2,
            _ => u64::from(m.current_round()),
        }
        .max(u64::from(m.my_ack_round()) + 1);
        let e = self.txn.entry();
        let decided = m.decided.filter(|_| m.completed());
        let primary = m.view.primary();
        Report {
            view: m.view.id,
            primary: primary.id,
            primary_members: primary.members.clone(),
            ancestors,
            completed: u64::from(m.completed()),
            last_outcome: decided.map(|d| {
                let statuses = last_round_statuses(&m.round2);
                Outcome {
                    seq: e.seq,
                    pid: e.pid,
                    kind: e.body.kind().to_string(),
                    committed: d.committed,
                    generation: m.restored.as_ref().map_or(m.generation, |r| r.1),
                    reason: round_verdict(&statuses).err(),
                    statuses,
                }
            }),
            running,
            pending: Vec::new(),
            next_round,
            params: m.restored.as_ref().map_or_else(|| m.old_params.clone().unwrap_or_else(|| m.params.clone()), |r| r.0.clone()),
            generation: m.restored.as_ref().map_or(m.generation, |r| r.1),
            fates: decided
                .map(|d| Decided {
                    pid: e.pid,
                    seq: e.seq,
                    kind: e.body.kind().to_string(),
                    committed: d.committed,
                    generation: m.restored.as_ref().map_or(m.generation, |r| r.1),
                })
                .into_iter()
                .collect(),
            durable: m.durable,
            joins: false,
        }
    }

    /// `Membership::start_gathering`: member `i` leads a view change of `members`,
    /// fenced at once, with its own report.
    fn start_gathering(&self, s: &mut State, i: usize, members: Vec<usize>) {
        let vid = s.next_vid(i);
        let incs = s.incs(&members);
        s.gatherings[i] = Some(Gathering { vid, members, incs, reports: BTreeMap::new(), decided: false, accepted_by: BTreeSet::new() });
        self.on_prepare_ack(s, i, i);
    }

    /// `Membership::fence` and `Membership::on_prepare_ack`: member `j` promises the view
    /// change of leader `l` and its report reaches the leader, who decides
    /// once every report is in (`Membership::try_decide`).
    fn on_prepare_ack(&self, s: &mut State, l: usize, j: usize) {
        let g = s.gatherings[l].as_mut().expect("a view change is under way");
        s.members[j].promised = g.vid;
        s.members[j].promised_inc = s.members[l].inc;
        // `Core::poll_persist`: the promise is on disk before the report leaves.
        s.members[j].persist();
        // The leader keeps what the report is built from, not the disk.
        let mut snapshot = s.members[j].clone();
        snapshot.persisted = None;
        g.reports.insert(j, snapshot);
        if g.reports.len() == g.members.len() {
            self.decide(s, l);
        }
    }

    /// `Membership::on_prepare_refused`: leader `l` learns the promise it must beat
    /// and gathers the same members again above it.
    fn on_prepare_refused(&self, s: &mut State, l: usize, promised: ViewId) {
        let members = s.gatherings[l].as_ref().expect("a view change is under way").members.clone();
        let m = &mut s.members[l];
        m.promised.epoch = m.promised.epoch.max(promised.epoch);
        self.start_gathering(s, l, members);
    }

    /// Whether a member installs `nv` as soon as it is decided.
    fn installs_at_once(&self, nv: &NewViewMsg) -> bool {
        !nv.quorum || self.variant == Variant::InstallOnDecide
    }

    /// `Membership::try_decide`: leader `l` decides with [`decide_view`] from the
    /// reports and sends the `NewView` to every other member; it installs a
    /// view without quorum at once, and accepts one with quorum.
    fn decide(&self, s: &mut State, l: usize) {
        let g = s.gatherings[l].as_mut().expect("a view change is under way");
        let snapshots = std::mem::take(&mut g.reports);
        let (vid, view, incs) = (g.vid, g.members.clone(), g.incs.clone());
        let mut reports: BTreeMap<NodeId, Report> = snapshots.iter().map(|(&j, m)| (node(j), self.report(j, m))).collect();
        let adopted = reports.values().any(|r| r.completed > 0);
        match self.variant {
            Variant::UnknownPresumedOk => {
                for rr in reports.values_mut().filter_map(|r| r.running.as_mut()).filter(|rr| rr.round_index == 1) {
                    let unknown: Vec<NodeId> = (0..MEMBERS).map(node).filter(|id| !rr.last_round.iter().any(|(j, _)| j == id)).collect();
                    rr.last_round.extend(unknown.into_iter().map(|id| (id, AckStatus::Ok(Default::default()))));
                    rr.last_round.sort_by_key(|(j, _)| *j);
                }
            }
            Variant::IgnoreCompleted if reports.values().any(|r| r.completed == 0) => reports.retain(|_, r| r.completed == 0),
            _ => {}
        }
        let (params, generation) = (s.members[l].params.clone(), s.members[l].generation);
        let decide = |reports: &BTreeMap<NodeId, Report>| {
            let nv = decide_view(self.variant.quorum(), vid, members(&view, &incs), reports, params.clone(), generation);
            // The lineage it builds on: that of the reports from its top.
            let top = reports.values().map(|r| r.primary).max().expect("the leader reports");
            let base = snapshots.values().map(MemberState::reported_lineage).find(|l| l.last().is_some_and(|p| p.id == top));
            NewViewMsg::new(&nv, adopted, base.expect("a report from the top"))
        };
        let pooled = decide(&reports);
        let mut own = None;
        for (&j, &inc) in view.iter().zip(&incs) {
            let nv = match self.variant {
                Variant::NoPooling => decide(&reports.iter().filter(|(id, _)| **id == node(j)).map(|(id, r)| (*id, r.clone())).collect()),
                _ => pooled.clone(),
            };
            if j == l {
                own = Some(nv);
            } else if !s.members[j].crashed && s.members[j].inc == inc {
                s.new_views.insert((j, vid), nv);
            }
        }
        let own = own.expect("the leader is a member");
        if self.installs_at_once(&own) {
            return Self::install(s, l, &own);
        }
        s.members[l].accept(l, own);
        s.members[l].persist();
        s.gatherings[l].as_mut().expect("still gathering").decided = true;
        Self::on_accepted(s, l, l, vid);
    }

    /// `Membership::on_new_view`: member `j` takes the `NewView` of the view
    /// change it promised (only that one): it installs a view without quorum
    /// at once, and accepts one with quorum and tells the leader.
    fn on_new_view(&self, s: &mut State, j: usize, nv: NewViewMsg) {
        if nv.vid != s.members[j].promised {
            return;
        }
        if self.installs_at_once(&nv) {
            return Self::install(s, j, &nv);
        }
        // A lineage behind a generation its host was told is refused
        // (durable mode: `Engine::reported_generation`).
        if s.members[j].durable && nv.generation < s.members[j].told.1 {
            return;
        }
        let vid = nv.vid;
        s.members[j].accept(j, nv);
        // `Core::poll_persist`: the acceptance is on disk before `Accepted` leaves.
        s.members[j].persist();
        if !s.members[index(vid.leader)].crashed {
            s.accepts.insert((vid, j));
        }
    }

    /// `Membership::on_accepted`: leader `l` counts member `j`'s acceptance of
    /// `vid`; with every member's, it sends `Install` to the others and
    /// installs.
    fn on_accepted(s: &mut State, l: usize, j: usize, vid: ViewId) {
        let Some(g) = s.gatherings[l].as_mut().filter(|g| g.vid == vid && g.decided) else { return };
        g.accepted_by.insert(j);
        if g.accepted_by.len() < g.members.len() {
            return;
        }
        let g = s.gatherings[l].take().expect("checked above");
        for (&k, _) in g.members.iter().zip(&g.incs).filter(|&(&k, &inc)| k != l && !s.members[k].crashed && s.members[k].inc == inc) {
            s.installs.insert((vid, k));
        }
        Self::install_accepted(s, l);
    }

    /// `Membership::on_install`: member `j` installs `vid` if it is the last view
    /// it accepted and newer than its view.
    fn on_install(s: &mut State, j: usize, vid: ViewId) {
        let m = &s.members[j];
        if m.accepted.last().is_some_and(|nv| nv.vid == vid) && vid > m.view.id {
            Self::install_accepted(s, j);
        }
    }

    /// `Membership::install_accepted`: member `j` takes the state of the views its
    /// last accepted one builds on, then installs that one.
    fn install_accepted(s: &mut State, j: usize) {
        let mut chain = std::mem::take(&mut s.members[j].accepted);
        let last = chain.pop().expect("the caller checked the last accepted view");
        for nv in &chain {
            s.members[j].take_view_state(j, nv);
        }
        Self::install(s, j, &last);
    }

    /// `Membership::install`: member `j` installs the view `nv`, then takes its
    /// state if it has quorum; a view without quorum changes nothing but the
    /// view, the member keeps its state. A member that promised a later view
    /// change meanwhile stays fenced by it.
    fn install(s: &mut State, j: usize, nv: &NewViewMsg) {
        // Whatever the old view still had in flight to it is stale now.
        s.net.retain(|msg| msg.to() != j);
        let m = &mut s.members[j];
        m.view.id = nv.vid;
        m.view.members.clone_from(&nv.members);
        m.view.incs.clone_from(&nv.incs);
        m.view.quorum = nv.quorum;
        if m.promised <= nv.vid {
            m.promised = nv.vid;
            m.suspects = [false; MEMBERS];
            s.gatherings[j] = None;
        }
        m.last_ack = [0; MEMBERS];
        // The new view hears every member's marks afresh.
        m.heard_done = [false; MEMBERS];
        if nv.quorum {
            m.take_view_state(j, nv);
        }
    }

    /// A crash: member `i` stops, and what is addressed to it is dropped.
    fn crash(s: &mut State, i: usize) {
        s.members[i].crashed = true;
        s.net.retain(|m| m.to() != i);
        s.gatherings[i] = None;
        s.new_views.retain(|&(to, _), _| to != i);
        s.accepts.retain(|&(vid, _)| index(vid.leader) != i);
        s.installs.retain(|&(_, to)| to != i);
    }

    /// `Core::restore` with `Membership::restore` and `Engine::restore`:
    /// crashed member `i` comes back from what it persisted, and nothing
    /// else: a new incarnation, in a view of its own without quorum
    /// numbered past its promise (so it is not fenced), holding the lineage
    /// and the views it accepted, its decision if it had one (the change
    /// done, nothing running), the values it had decided for its reports
    /// and those its host was last told to run. Rounds, statuses, marks,
    /// suspicions and its proposal's wait (`Engine::outstanding`) are lost.
    /// What its host was told ([`MemberState::reported`]) is the host's
    /// record, which the properties keep.
    fn restart(s: &mut State, i: usize) {
        let m = &mut s.members[i];
        let p = (**m.persisted.as_ref().expect("only a durable member restarts")).clone();
        let inc = p.inc + 1;
        let id = ViewId { epoch: p.promised.epoch + 1, leader: node(i) };
        m.crashed = false;
        m.inc = inc;
        m.phase = if p.decided.is_some() { Phase::Done } else { Phase::Idle };
        m.last_ack = [0; MEMBERS];
        m.missing = 0;
        // Its own status stays as the record of what it applied, which
        // validity reads; nothing else reads it once the change stopped
        // running here (the others' statuses are lost).
        m.round2 = std::array::from_fn(|j| if j == i { m.round2[i] } else { None });
        (m.params, m.generation) = p.told.clone();
        m.told = p.told;
        m.old_params = None;
        m.decided = p.decided;
        m.heard_done = [false; MEMBERS];
        m.view = MemberView { id, members: vec![i], incs: vec![inc], quorum: false, lineage: p.lineage };
        m.promised = id;
        m.promised_inc = inc;
        m.suspects = [false; MEMBERS];
        m.accepted = p.accepted;
        m.outstanding = false;
        m.restored = Some(p.values);
        m.unpersisted = false;
        s.restarts += 1;
    }
}

impl Model for ChangeModel {
    type State = State;
    type Action = Action;

    /// Every combination of member [`Setup`]s; in each, the coordinator has
    /// sequenced the change (sent to members 2 and 3) and started it.
    fn init_states(&self) -> Vec<State> {
        let setups = self.setups;
        let id = ViewId { epoch: 1, leader: 1 };
        let everyone: Vec<usize> = (0..MEMBERS).collect();
        let all = members(&everyone, &[1; MEMBERS]);
        let view = MemberView { id, members: everyone, incs: vec![1; MEMBERS], quorum: true, lineage: vec![Primary { id, members: all }] };
        let mut out = Vec::new();
        for &a in setups {
            for &b in setups {
                for &c in setups {
                    let mut s = State {
                        members: [a, b, c].map(|setup| {
                            let mut m = MemberState::new(setup, view.clone());
                            if self.is_durable() {
                                m.durable = true;
                                m.persisted = Some(Box::new(Persisted {
                                    inc: 1,
                                    promised: id,
                                    lineage: m.view.lineage.clone(),
                                    accepted: Vec::new(),
                                    decided: None,
                                    values: (old_params(), 0),
                                    told: (old_params(), 0),
                                }));
                            }
                            m
                        }),
                        net: [Msg::Sequenced { to: 1 }, Msg::Sequenced { to: 2 }].into_iter().collect(),
                        gatherings: [None, None, None],
                        new_views: BTreeMap::new(),
                        accepts: BTreeSet::new(),
                        installs: BTreeSet::new(),
                        crashes: 0,
                        suspicions: 0,
                        restarts: 0,
                        cut: false,
                    };
                    s.members[PROPOSER].outstanding = true;
                    self.start_protocol(&mut s, 0);
                    out.push(s);
                }
            }
        }
        out
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        for &msg in &s.net {
            if !s.members[msg.to()].crashed {
                actions.push(Action::Deliver(msg));
            }
        }
        // Bounded to the power cut: restarts only after it (every member
        // once: nobody crashes after it).
        if s.restarts < self.max_restarts && (s.cut || !self.power_cut) {
            actions.extend((0..MEMBERS).filter(|&i| s.members[i].crashed).map(Action::Restart));
        }
        if self.power_cut && !s.cut {
            actions.push(Action::PowerCut);
        }
        for (i, m) in s.members.iter().enumerate().filter(|(_, m)| !m.crashed) {
            if m.unpersisted {
                actions.push(Action::Persist(i));
            }
            if m.phase == (Phase::Running { index: 1, vetting: true }) {
                actions.push(Action::Answer { member: i, approve: true });
                actions.push(Action::Answer { member: i, approve: false });
            }
            let fault_left = s.crashes + s.suspicions < self.max_faults && !s.cut;
            if fault_left {
                actions.push(Action::Crash(i));
            }
            // `Membership::maybe_lead` on suspecting a crashed member: unless a
            // live leader's view change is under way for it.
            let candidates = s.candidates(i);
            let crash_seen = m.view.members.iter().any(|&j| s.gone(i, j));
            // Bounded to the power cut: after it, one view change at a time
            // (competing leaders are checked without durable state).
            let may_lead = !(self.power_cut && s.cut) || s.quiet();
            if may_lead && crash_seen && s.would_lead(i, &candidates) && !s.awaits(i) {
                actions.push(Action::Lead { vid: s.next_vid(i) });
            }
            // A restarted member in a view without quorum, outside this
            // member's view, is taken in by the lowest of them all.
            if self.is_durable() && may_lead && !s.awaits(i) {
                for j in (0..MEMBERS).filter(|&j| {
                    let r = &s.members[j];
                    j != i && !r.crashed && r.inc > 1 && !r.view.quorum && r.view.id != m.view.id && !candidates.contains(&j)
                }) {
                    let mut with: Vec<usize> = candidates.iter().copied().chain([j]).collect();
                    with.sort_unstable();
                    if s.would_lead(i, &with) {
                        actions.push(Action::Join { with: j, vid: s.next_vid(i) });
                    }
                }
            }
            // `Membership::suspect`, then `Membership::maybe_lead`: only a suspicion that
            // makes the member lead changes anything in this scope.
            if fault_left && s.suspicions < self.max_suspicions && s.members.iter().all(|m| m.setup == Setup::Plain) {
                for &j in m.view.members.iter().filter(|&&j| j != i && !s.gone(i, j) && !m.suspects[j]) {
                    let without: Vec<usize> = candidates.iter().copied().filter(|&k| k != j).collect();
                    if s.would_lead(i, &without) {
                        actions.push(Action::Suspect { of: j, vid: s.next_vid(i) });
                    }
                }
            }
            // `Membership::suspect` of a member that went on in a view without
            // this one (true, no fault), then `Membership::maybe_lead`.
            if self.notice {
                for &j in m.view.members.iter().filter(|&&j| {
                    let o = &s.members[j];
                    j != i && !s.gone(i, j) && !m.suspects[j] && o.view.id != m.view.id && !o.view.members.contains(&i)
                }) {
                    let without: Vec<usize> = candidates.iter().copied().filter(|&k| k != j).collect();
                    if s.would_lead(i, &without) {
                        actions.push(Action::Notice { of: j, vid: s.next_vid(i) });
                    }
                }
            }
            // `Membership::on_prepare`: a leader from outside the view may only be
            // merging it in (a lower id than its coordinator); a `Prepare`
            // below the promise is refused.
            let gathers_me = |g: &&Gathering| g.members.iter().zip(&g.incs).any(|(&j, &inc)| j == i && inc == m.inc);
            for g in s.gatherings.iter().flatten().filter(|g| !g.decided && gathers_me(g) && !g.reports.contains_key(&i)) {
                let leader = index(g.vid.leader);
                if !m.view.members.contains(&leader) && m.view.quorum && leader > m.view.members[0] {
                    continue;
                }
                if g.vid > m.promised {
                    actions.push(Action::Prepare { member: i, vid: g.vid });
                } else if g.vid < m.promised {
                    actions.push(Action::Refuse { member: i, vid: g.vid });
                }
            }
        }
        // View change messages to crashed members are dropped on the crash.
        actions.extend(s.new_views.keys().map(|&(member, vid)| Action::NewView { member, vid }));
        actions.extend(s.accepts.iter().map(|&(vid, member)| Action::Accepted { member, vid }));
        actions.extend(s.installs.iter().map(|&(vid, member)| Action::Install { member, vid }));
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut s = last.clone();
        match action {
            Action::Deliver(Msg::Sequenced { to }) => {
                // `Engine::on_sequenced`: only the next sequence number is taken.
                if s.members[to].phase == Phase::Idle && s.members[to].decided.is_none() {
                    self.start_protocol(&mut s, to);
                }
            }
            Action::Deliver(Msg::Ack { from, to, round, status }) => {
                // `Engine::on_member_ack`: the coordinator of a relaying view
                // passes the ACK on.
                if self.relay && Self::coordinator(&s, to) == to {
                    self.keep_for_relay(&mut s, to, Msg::RelayedAck { of: from, to, round, status });
                }
                self.on_ack(&mut s, to, from, round, status);
            }
            // `Engine::on_relayed_acks`: from the coordinator of the view.
            Action::Deliver(Msg::RelayedAck { of, to, round, status }) => self.on_ack(&mut s, to, of, round, status),
            // Marks only ever raise what a member heard (and what its
            // coordinator relays), so a duplicate changes nothing: delivered
            // once, they leave the network (fewer states, the same runs).
            Action::Deliver(msg @ Msg::Done { from, to }) => {
                s.net.remove(&msg);
                self.on_marks(&mut s, to, from, true);
            }
            Action::Deliver(msg @ Msg::RelayedDone { of, to }) => {
                s.net.remove(&msg);
                self.on_marks(&mut s, to, of, false);
            }
            Action::Answer { member, approve: true } => self.apply_change(&mut s, member),
            Action::Answer { member, approve: false } => self.send_ack(&mut s, member, Some(Status::Failed)),
            Action::Crash(i) => {
                s.crashes += 1;
                Self::crash(&mut s, i);
            }
            Action::PowerCut => {
                s.cut = true;
                for i in (0..MEMBERS).filter(|&i| !last.members[i].crashed) {
                    Self::crash(&mut s, i);
                }
            }
            Action::Restart(i) => Self::restart(&mut s, i),
            Action::Join { with, vid } => {
                let i = index(vid.leader);
                let mut members = last.candidates(i);
                members.push(with);
                members.sort_unstable();
                self.start_gathering(&mut s, i, members);
            }
            Action::Persist(i) => {
                s.members[i].unpersisted = false;
                s.members[i].persist();
            }
            Action::Lead { vid } => {
                let i = index(vid.leader);
                self.start_gathering(&mut s, i, last.candidates(i));
            }
            Action::Suspect { of, vid } => {
                let i = index(vid.leader);
                s.members[i].suspects[of] = true;
                s.suspicions += 1;
                let members = s.candidates(i);
                self.start_gathering(&mut s, i, members);
            }
            Action::Notice { of, vid } => {
                let i = index(vid.leader);
                s.members[i].suspects[of] = true;
                let members = s.candidates(i);
                self.start_gathering(&mut s, i, members);
            }
            Action::Prepare { member, vid } => {
                // `Membership::on_prepare`: its own view change gives way.
                s.gatherings[member] = None;
                self.on_prepare_ack(&mut s, index(vid.leader), member);
            }
            Action::Refuse { member, vid } => self.on_prepare_refused(&mut s, index(vid.leader), last.members[member].promised),
            Action::NewView { member, vid } => {
                let nv = s.new_views.remove(&(member, vid)).expect("enabled");
                self.on_new_view(&mut s, member, nv);
            }
            Action::Accepted { member, vid } => {
                s.accepts.remove(&(vid, member));
                Self::on_accepted(&mut s, index(vid.leader), member, vid);
            }
            Action::Install { member, vid } => {
                s.installs.remove(&(vid, member));
                Self::on_install(&mut s, member, vid);
            }
        }
        // `Core::follow_node_set`: a member whose host was told values whose
        // node set leaves it out leaves the group (`Core::leave`): it takes
        // no further part, and the others see it gone.
        for i in 0..MEMBERS {
            let m = &s.members[i];
            if !m.crashed && m.reported.is_some() && !m.params.nodes().contains(node(i)) {
                s.members[i].left = true;
                Self::crash(&mut s, i);
            }
        }
        // `Core::poll_persist`: whatever else a step changed of a member's
        // durable state (an install, a report to its host) is on disk before
        // its next output.
        for m in s.members.iter_mut().filter(|m| !m.crashed) {
            m.persist();
        }
        Some(s)
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut properties = vec![
            Property::always("agreement: no two live members of the lineage decide differently", |_, s: &State| {
                let decided: Vec<bool> = s.lineage_members().filter_map(|m| m.decided).map(|d| d.committed).collect();
                decided.windows(2).all(|w| w[0] == w[1])
            }),
            Property::always(ONE_LINEAGE, |_, s: &State| {
                s.members.iter().all(|a| {
                    s.members.iter().all(|b| a.view.lineage.starts_with(&b.view.lineage) || b.view.lineage.starts_with(&a.view.lineage))
                })
            }),
            Property::always("validity: a commit only when every member applied OK", |_, s: &State| {
                let all_ok = s.members.iter().enumerate().all(|(i, m)| m.round2[i] == Some(Status::Ok));
                all_ok || s.members.iter().all(|m| !m.decided.is_some_and(|d| d.committed))
            }),
            Property::always(
                "values follow the outcome: commit holds the new values, rollback restores the old",
                |model: &ChangeModel, s: &State| {
                    s.members.iter().all(|m| match m.decided {
                        Some(d) if d.committed => m.values() == (model.txn.new_params(), 1),
                        Some(_) => m.values() == (old_params(), 0),
                        None => true,
                    })
                },
            ),
            Property::always("settled live members of the lineage hold identical values", |_, s: &State| {
                let settled: Vec<(Params, u64)> =
                    s.lineage_members().filter(|m| m.settled()).map(|m| (m.params.clone(), m.generation)).collect();
                settled.windows(2).all(|w| w[0] == w[1])
            }),
            Property::always("no completed outcome is overruled by a view change", |_, s: &State| s.members.iter().all(|m| !m.overruled)),
            Property::always(REPORTED_FINALITY, |model: &ChangeModel, s: &State| {
                let mut told = s.members.iter().filter_map(|m| m.reported).map(|r| r.committed);
                let Some(outcome) = told.next() else { return true };
                // Only what a member decided alone and never reported may
                // differ, once it crashed or its lineage went on without it
                // (the limitation below): it dies with it, or is dropped when
                // it rejoins.
                let alone = |i: usize, m: &MemberState| m.reported.is_none() && (m.crashed || s.excluded(i));
                let values = if outcome { (model.txn.new_params(), 1) } else { (old_params(), 0) };
                told.all(|c| c == outcome)
                    && s.members.iter().enumerate().all(|(i, m)| alone(i, m) || m.decided.is_none_or(|d| d.committed == outcome))
                    && s.lineage_members().filter(|m| m.settled()).all(|m| (m.params.clone(), m.generation) == values)
                    // A restarted member's host runs what it was told.
                    && s.members.iter().all(|m| !m.durable || m.reported.is_none_or(|r| r.committed != outcome) || m.told == values)
            }),
            Property::sometimes("reachable: every member commits", |_, s: &State| {
                s.members.iter().all(|m| m.decided.is_some_and(|d| d.committed && d.by == Decider::LastRound))
            }),
            Property::sometimes("reachable: every member rolls back a failed apply", |_, s: &State| {
                s.members.iter().all(|m| m.decided.is_some_and(|d| !d.committed && d.by == Decider::LastRound))
            }),
            Property::sometimes("reachable: a view change commits from pooled statuses", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && m.decided == Some(Decision { committed: true, by: Decider::ViewChange }))
            }),
            Property::sometimes("reachable: a view change abandons the change", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && m.decided == Some(Decision { committed: false, by: Decider::ViewChange }))
            }),
            Property::sometimes("reachable: a survivor adopts the outcome another completed", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && m.decided.is_some_and(|d| d.by == Decider::Adopted))
            }),
            Property::sometimes("reachable: every host is told once every member said it decided", |_, s: &State| {
                s.members.iter().all(|m| m.reported.is_some_and(|r| r.by == Teller::Marks))
            }),
            Property::sometimes("reachable: a member decides, and its host is told at the install that adopts it", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && m.reported.is_some_and(|r| r.by == Teller::Settled))
            }),
            Property::sometimes("reachable: a view change resolves the change and the host is told at install", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && m.reported.is_some_and(|r| r.by == Teller::Resolved))
            }),
            Property::sometimes("reachable: a survivor without quorum is left undecided", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && !m.view.quorum && matches!(m.phase, Phase::Running { .. }))
            }),
            Property::sometimes(
                "reachable: competing leaders: a member promises a later view change after reporting to a decided one",
                |_, s: &State| {
                    s.gatherings
                        .iter()
                        .flatten()
                        .any(|g| g.decided && g.members.iter().any(|&j| !g.accepted_by.contains(&j) && s.members[j].promised > g.vid))
                },
            ),
            Property::sometimes("reachable: a member reports as if the view it accepted were installed", |_, s: &State| {
                s.gatherings.iter().flatten().any(|g| g.reports.values().any(|m| !m.accepted.is_empty()))
            }),
            Property::sometimes(LIMITATION, |_, s: &State| {
                let crashed_commit = s.members.iter().any(|m| m.crashed && m.decided.is_some_and(|d| d.committed));
                let live_rollback = s.members.iter().any(|m| !m.crashed && m.decided.is_some_and(|d| !d.committed));
                crashed_commit && live_rollback
            }),
            Property::sometimes(LIMITATION_EXCLUDED, |_, s: &State| {
                let excluded_commit =
                    (0..MEMBERS).any(|i| !s.members[i].crashed && s.excluded(i) && s.members[i].decided.is_some_and(|d| d.committed));
                let lineage_rollback = s.lineage_members().any(|m| m.decided.is_some_and(|d| !d.committed));
                excluded_commit && lineage_rollback
            }),
        ];
        if self.txn.node_change().is_some() {
            properties.extend([
                Property::sometimes(NODES_LEAVE, |_, s: &State| {
                    let gone: Vec<usize> = (0..MEMBERS).filter(|&i| s.members[i].left).collect();
                    !gone.is_empty()
                        && s.members.iter().any(|m| !m.crashed && m.view.quorum && gone.iter().all(|&i| !m.view.primary().holds(i)))
                }),
                Property::sometimes(NODES_ALONE, |_, s: &State| {
                    (0..MEMBERS).any(|i| {
                        let m = &s.members[i];
                        !m.crashed
                            && m.decided.is_some_and(|d| d.committed)
                            && s.excluded(i)
                            && m.view.members == [i]
                            && !m.view.quorum
                            && s.gatherings[i].is_none()
                    })
                }),
                Property::sometimes(NODES_KEPT_STUCK, |model: &ChangeModel, s: &State| {
                    let kept = model.txn.new_params();
                    let kept = kept.nodes();
                    s.members.iter().all(|m| m.decided.is_some_and(|d| d.committed))
                        && (0..MEMBERS).all(|i| kept.contains(node(i)) || s.members[i].left)
                        && s.crashes == 0
                        && s.suspicions == 0
                        && s.members
                            .iter()
                            .filter(|m| !m.crashed)
                            .all(|m| !m.view.quorum && m.view.members.iter().all(|&j| kept.contains(node(j))))
                }),
            ]);
        }
        if self.is_durable() {
            properties.extend([
                Property::sometimes(DURABLE_REJOIN, |_, s: &State| {
                    s.members
                        .iter()
                        .enumerate()
                        .any(|(i, r)| !r.crashed && r.inc > 1 && r.view.quorum && r.view.lineage.iter().any(|p| !p.holds(i)))
                }),
                Property::sometimes(DURABLE_EVERY_CRASH, |_, s: &State| {
                    let every_crashed = s.members.iter().all(|m| m.crashed || m.inc > 1);
                    let told = s.members.iter().find_map(|m| m.reported).map(|r| r.committed);
                    every_crashed
                        && told.is_some()
                        && s.members.iter().any(|m| !m.crashed && m.inc > 1 && m.view.quorum && m.decided.map(|d| d.committed) == told)
                }),
            ]);
        }
        properties
    }
}

/// The result of checking one [`ChangeModel`].
#[derive(Debug)]
pub struct CheckRun {
    /// The variant checked.
    pub variant: Variant,
    /// Whether ACKs and marks were relayed through the coordinator.
    pub relay: bool,
    /// The transaction checked.
    pub txn: Txn,
    /// Distinct states explored.
    pub unique_states: usize,
    /// States generated, repeats included.
    pub states: usize,
    /// The longest path explored.
    pub max_depth: usize,
    /// How long the search took.
    pub elapsed: Duration,
    /// Every `always` property violated, with the shortest run found to the
    /// violation: the members' setups, then the actions.
    pub violations: BTreeMap<&'static str, Vec<String>>,
    /// Every `sometimes` property shown reachable.
    pub reached: BTreeSet<&'static str>,
    /// Every `sometimes` property not shown reachable.
    pub unreached: BTreeSet<&'static str>,
}

impl ChangeModel {
    /// Checks the model breadth first on `threads` threads. The code's
    /// protocol is searched exhaustively (no `always` property can be
    /// violated, so the search ends only when every reachable state is
    /// visited); a variant stops at its first violation, the shortest
    /// counterexample, or searches exhaustively if there is none.
    pub fn check(&self, threads: usize) -> CheckRun {
        let finish = if self.variant == Variant::Code { HasDiscoveries::AllFailures } else { HasDiscoveries::AnyFailures };
        self.search(threads, finish)
    }

    /// Checks a variant breadth first on `threads` threads until it violates
    /// `property` (the shortest run that does; those of the properties
    /// violated on the way too), or exhaustively if it never does.
    pub fn check_until(&self, threads: usize, property: &'static str) -> CheckRun {
        self.search(threads, HasDiscoveries::AnyOf([property].into_iter().collect()))
    }

    fn search(&self, threads: usize, finish: HasDiscoveries) -> CheckRun {
        let properties = self.properties();
        let start = Instant::now();
        let checker = self.clone().checker().threads(threads).finish_when(finish).spawn_bfs().join();
        let elapsed = start.elapsed();
        let found = checker.discoveries();
        let mut run = CheckRun {
            variant: self.variant,
            relay: self.relay,
            txn: self.txn,
            unique_states: checker.unique_state_count(),
            states: checker.state_count(),
            max_depth: checker.max_depth(),
            elapsed,
            violations: BTreeMap::new(),
            reached: BTreeSet::new(),
            unreached: BTreeSet::new(),
        };
        for p in &properties {
            match (found.get(p.name), p.expectation.discovery_is_failure()) {
                (Some(path), true) => {
                    let mut steps = vec![format!("setups {:?}", path.clone().into_states()[0].members.each_ref().map(|m| m.setup))];
                    steps.extend(path.clone().into_actions().iter().map(|a| self.format_action(a)));
                    run.violations.insert(p.name, steps);
                }
                (Some(_), false) => {
                    run.reached.insert(p.name);
                }
                (None, false) => {
                    run.unreached.insert(p.name);
                }
                (None, true) => {}
            }
        }
        run
    }
}
