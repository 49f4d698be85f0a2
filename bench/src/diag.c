#include "diag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One dump of the family's TCP listeners on port, summed into l. */
static int dump(int fd, int family, int port, struct listener *l)
{
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.r.sdiag_family = (unsigned char)family;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = 1u << 10; /* TCP_LISTEN */
    req.r.idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
    req.r.id.idiag_sport = htons((unsigned short)port);
    struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
    if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) < 0)
        return -1;
    long buf[8192 / sizeof(long)];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                errno = e->error ? -e->error : EIO;
                return -1;
            }
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            if (ntohs(m->id.idiag_sport) != port)
                continue;
            l->sockets++;
            l->queue += m->idiag_rqueue; /* a listener: its accept queue */
            if ((long)m->idiag_wqueue > l->backlog)
                l->backlog = m->idiag_wqueue;
            int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
            for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == INET_DIAG_SKMEMINFO &&
                    RTA_PAYLOAD(a) >= (int)(sizeof(unsigned) * (SK_MEMINFO_DROPS + 1)))
                    l->drops += ((const unsigned *)RTA_DATA(a))[SK_MEMINFO_DROPS];
        }
    }
}

int listener_read(int port, struct listener *l)
{
    memset(l, 0, sizeof *l);
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return -1;
    int rc = dump(fd, AF_INET, port, l);
    if (rc == 0)
        rc = dump(fd, AF_INET6, port, l);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
