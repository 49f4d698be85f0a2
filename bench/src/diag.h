/* diag: a listener's own counters from the kernel through sock_diag (NETLINK_SOCK_DIAG),
 * where /proc/net/netstat has only the machine's totals: the accept queue's length now and
 * the connections the listener dropped (sk_drops: a full accept queue, counted per socket
 * beside ListenDrops). Every TCP listener on the port is summed (SO_REUSEPORT groups). */
#ifndef DIAG_H
#define DIAG_H

struct listener {
    long long drops; /* connections dropped by the listeners since they were made */
    long queue;      /* connections waiting in their accept queues now */
    long backlog;    /* their accept queues' limit (the largest) */
    int sockets;     /* listeners found on the port */
};

/* The listeners on port of this network namespace (IPv4 and IPv6). 0, or -1 with errno. */
int listener_read(int port, struct listener *l);

#endif
