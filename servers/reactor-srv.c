/* reactor-srv: one thread and one event loop (lib/loop over epoll, poll or select: --poller)
 * that accepts, greets, reads request lines, runs the sieve and sends payloads for every client
 * at once, each socket non-blocking: the design of redis and of each nginx worker. Its
 * strength: an idle or slow client costs a descriptor, about 1.2 KiB and a timer, never a
 * thread or a process, so ten thousand kept connections are cheap, and no context switch
 * separates one request from the next. Its cost: the sieve runs on the loop thread, so one long
 * sieve stalls every other client (head-of-line blocking, as redis documents for its slow
 * commands), and it uses one core only. Work per event is bounded (64 KiB written, 16 requests
 * answered) so that one client cannot starve the rest. */
#include "reactor.h"
#include "srv.h"
#include "models.h" /* CAPS_<model>: from servers/models */

int main(int argc, char **argv)
{
    static const struct srv_model model = {"reactor", CAPS_reactor, SRV_NONBLOCK | SRV_EVENT};
    struct srv s;
    srv_start(&s, &model, argc, argv);
    reactor_run(&s, NULL); /* the sieve runs on the loop thread */
    return srv_finish(&s);
}
