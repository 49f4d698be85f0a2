/* leader-srv: Leader/Followers (Schmidt, O'Ryan, Pyarali, Kircher and Buschmann, POSA2). -w
 * threads share one epoll set in which every socket waits with EPOLLONESHOT; one thread at a
 * time, the leader, waits for one event, promotes a follower to lead and serves what it got
 * itself: the greeting, the request line, the sieve and the answer, then re-arms the socket
 * and joins the followers. The thread that took an event owns its connection until it
 * re-arms it, so a request is never queued or handed from one thread to another, where
 * reactor-pool-srv hands every request over twice. Its strength: a long sieve holds one
 * thread while the others keep leading, and idle clients cost a descriptor, not a thread.
 * Its costs: an epoll_ctl to re-arm every socket after every event, and a promotion (a
 * condition variable, a thread wake-up) for every event, where a reactor takes many events
 * per wait; with every thread in a sieve nobody leads and every other client waits. The
 * driver is lib/leader. */
#include "leader.h"
#include "models.h" /* CAPS_<model>: from servers/models */
#include "srv.h"

int main(int argc, char **argv)
{
    static const struct srv_model model = {"leader", CAPS_leader,
                                           SRV_NONBLOCK | SRV_EVENT | SRV_THREADS};
    struct srv s;
    srv_start(&s, &model, argc, argv);
    int rc = leader_run(&s); /* lib/leader: the threads, their turns and the end */
    int status = srv_finish(&s);
    return rc ? rc : status;
}
