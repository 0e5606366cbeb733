// SPDX-License-Identifier: Apache-2.0
/*
 * anetd-cni: the CNI plugin binary the container runtime executes for every pod.
 *
 * It decides nothing. VERSION is answered here; every other command (ADD, DEL, CHECK, STATUS,
 * GC) becomes one JSON request on the agent's unix socket, and the agent's reply is printed as
 * the plugin's output. Starting a JVM per pod would cost seconds; this costs a connect().
 *
 * Request (one per connection, then shutdown(SHUT_WR)):
 *   {"command":"ADD","containerId":"..","netns":"..","ifname":"..","args":"..","path":"..",
 *    "stdinData":"<the network configuration exactly as read from stdin, as a JSON string>"}
 * Reply: the exit code on the first line ("0" or "1"), then the bytes to print on stdout
 * (a CNI result, a CNI error, or nothing).
 *
 * The socket path is the configuration's "agentSocket" key (default /var/run/anetd/cni.sock).
 * An agent that cannot be reached, is too busy to accept or answer in time, or closes without a
 * reply is CNI error 11 ("try again later"): kubelet retries. For STATUS it is error 50 (the
 * plugin is not available), what spec 1.1 asks STATUS to say.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/var/run/anetd/cni.sock"
#define MAX_INPUT (8 << 20)
/* The agent refuses larger requests (CniServer.MAX_REQUEST_BYTES). */
#define MAX_REQUEST (4 << 20)
/* connect() waits this long when the agent's listen queue is full. */
#define CONNECT_TIMEOUT_SECONDS 10
/*
 * Sending the request and waiting for the reply, together. Below kubelet's 4 min RunPodSandbox
 * deadline, so the runtime gets our error rather than cancelling us.
 */
#define REPLY_TIMEOUT_SECONDS 200

#define CNI_ERR_INVALID_ENV 4
#define CNI_ERR_IO 5
#define CNI_ERR_TRY_AGAIN 11
#define CNI_ERR_NOT_AVAILABLE 50

/* The error for "the agent did not answer": STATUS reports the plugin as not available. */
static int unreachable_code = CNI_ERR_TRY_AGAIN;

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d) {
			fputs("anetd-cni: out of memory\n", stderr);
			exit(1);
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* Appends s as a JSON string literal (quotes included). */
static void buf_put_json_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		switch (c) {
		case '"': buf_put(b, "\\\"", 2); break;
		case '\\': buf_put(b, "\\\\", 2); break;
		case '\n': buf_put(b, "\\n", 2); break;
		case '\r': buf_put(b, "\\r", 2); break;
		case '\t': buf_put(b, "\\t", 2); break;
		default:
			if (c < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				buf_put(b, esc, 6);
			} else {
				buf_put(b, (const char *)&s[i], 1);
			}
		}
	}
	buf_put(b, "\"", 1);
}

static void buf_put_field(struct buf *b, const char *key, const char *value, int first)
{
	if (!first)
		buf_put(b, ",", 1);
	buf_put_json_string(b, key, strlen(key));
	buf_put(b, ":", 1);
	buf_put_json_string(b, value ? value : "", value ? strlen(value) : 0);
}

/* Prints a CNI error result on stdout and exits 1 (the spec's error protocol). */
static void fail(int code, const char *msg, const char *details)
{
	struct buf out = {0};
	buf_puts(&out, "{\"cniVersion\":\"1.1.0\",\"code\":");
	char num[16];
	snprintf(num, sizeof(num), "%d", code);
	buf_puts(&out, num);
	buf_puts(&out, ",\"msg\":");
	buf_put_json_string(&out, msg, strlen(msg));
	if (details) {
		buf_puts(&out, ",\"details\":");
		buf_put_json_string(&out, details, strlen(details));
	}
	buf_puts(&out, "}\n");
	fwrite(out.data, 1, out.len, stdout);
	fflush(stdout);
	exit(1);
}

/* Reads fd to its end into b; -1 with errno set on a read error (EAGAIN: SO_RCVTIMEO passed). */
static int read_all(int fd, struct buf *b, const char *what)
{
	char chunk[65536];
	buf_put(b, "", 0);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (b->len + (size_t)n > MAX_INPUT)
			fail(CNI_ERR_IO, "input too large", what);
		buf_put(b, chunk, (size_t)n);
	}
}

static void set_timeout(int fd, int option, long seconds)
{
	struct timeval tv = {.tv_sec = seconds > 0 ? seconds : 1};
	setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv));
}

static long seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec);
}

/*
 * The value of the first "agentSocket" string in the configuration, or the default. Only this
 * one key is read here; the agent parses the whole configuration.
 */
static char *agent_socket(const char *config)
{
	const char *p = strstr(config, "\"agentSocket\"");
	if (!p)
		return strdup(DEFAULT_SOCKET);
	p += strlen("\"agentSocket\"");
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != ':')
		return strdup(DEFAULT_SOCKET);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != '"')
		fail(7, "invalid network configuration", "\"agentSocket\" must be a string");
	struct buf v = {0};
	buf_put(&v, "", 0);
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1]) {
			p++; /* \" \\ \/ are the escapes a path can sensibly carry */
		}
		buf_put(&v, p, 1);
	}
	if (*p != '"' || v.len == 0)
		fail(7, "invalid network configuration", "\"agentSocket\" is not a closed, non-empty string");
	return v.data;
}

static void write_all(int fd, const char *data, size_t len, const char *sock)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			char msg[512];
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				snprintf(msg, sizeof(msg), "the anetd agent at %s is busy: it did not "
					 "take the request in %d s", sock, REPLY_TIMEOUT_SECONDS);
				fail(unreachable_code, msg, "the runtime should retry");
			}
			snprintf(msg, sizeof(msg), "cannot send the request to the anetd agent at %s: %s",
				 sock, strerror(errno));
			fail(unreachable_code, msg, "the agent may be restarting; the runtime should retry");
		}
		data += n;
		len -= (size_t)n;
	}
}

int main(void)
{
	/* An agent that closes early must give an error result, not a silent SIGPIPE death. */
	signal(SIGPIPE, SIG_IGN);
	const char *command = getenv("CNI_COMMAND");
	if (!command || !*command)
		fail(CNI_ERR_INVALID_ENV, "CNI_COMMAND is not set", "set CNI_COMMAND to ADD, DEL, CHECK, STATUS, GC or VERSION");

	struct buf config = {0};
	if (read_all(STDIN_FILENO, &config, "the network configuration from stdin") < 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "cannot read the network configuration from stdin: %s",
			 strerror(errno));
		fail(CNI_ERR_IO, msg, NULL);
	}

	if (strcmp(command, "VERSION") == 0) {
		fputs("{\"cniVersion\":\"1.1.0\",\"supportedVersions\":"
		      "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n", stdout);
		return 0;
	}

	if (strcmp(command, "STATUS") == 0)
		unreachable_code = CNI_ERR_NOT_AVAILABLE;

	char *sock = agent_socket(config.data);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(sock) >= sizeof(addr.sun_path)) {
		char msg[512];
		snprintf(msg, sizeof(msg), "agentSocket path is longer than %zu bytes",
			 sizeof(addr.sun_path) - 1);
		fail(7, "invalid network configuration", msg);
	}
	strcpy(addr.sun_path, sock);

	struct buf req = {0};
	buf_puts(&req, "{");
	buf_put_field(&req, "command", command, 1);
	buf_put_field(&req, "containerId", getenv("CNI_CONTAINERID"), 0);
	buf_put_field(&req, "netns", getenv("CNI_NETNS"), 0);
	buf_put_field(&req, "ifname", getenv("CNI_IFNAME"), 0);
	buf_put_field(&req, "args", getenv("CNI_ARGS"), 0);
	buf_put_field(&req, "path", getenv("CNI_PATH"), 0);
	buf_puts(&req, ",\"stdinData\":");
	buf_put_json_string(&req, config.data, config.len);
	buf_puts(&req, "}");
	if (req.len > MAX_REQUEST) {
		char details[256];
		snprintf(details, sizeof(details), "the request with the network configuration is %zu "
			 "bytes; the anetd agent takes at most %d", req.len, MAX_REQUEST);
		fail(CNI_ERR_IO, "the network configuration is too large for the anetd agent", details);
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail(CNI_ERR_IO, "cannot create a unix socket", strerror(errno));
	/* Without it, connect() to an agent whose listen queue is full would block forever. */
	set_timeout(fd, SO_SNDTIMEO, CONNECT_TIMEOUT_SECONDS);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		char msg[512];
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			snprintf(msg, sizeof(msg), "the anetd agent at %s is busy: it did not accept "
				 "the connection in %d s", sock, CONNECT_TIMEOUT_SECONDS);
			fail(unreachable_code, msg, "the runtime should retry");
		}
		snprintf(msg, sizeof(msg), "the anetd agent is not reachable at %s: %s", sock,
			 strerror(errno));
		fail(unreachable_code, msg,
		     "is the anetd agent running on this node? (kubectl -n kube-system get pods -l k8s-app=cilium)");
	}
	/* A request larger than the socket buffer waits for a free agent worker to read it. */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	set_timeout(fd, SO_SNDTIMEO, REPLY_TIMEOUT_SECONDS);
	write_all(fd, req.data, req.len, sock);
	shutdown(fd, SHUT_WR);

	struct buf reply = {0};
	set_timeout(fd, SO_RCVTIMEO, REPLY_TIMEOUT_SECONDS - seconds_since(&start));
	if (read_all(fd, &reply, "the reply of the anetd agent") < 0) {
		char msg[512];
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			snprintf(msg, sizeof(msg), "the anetd agent at %s is busy: no reply in %d s",
				 sock, REPLY_TIMEOUT_SECONDS);
			fail(unreachable_code, msg, "the runtime should retry");
		}
		snprintf(msg, sizeof(msg), "cannot read the reply of the anetd agent at %s: %s", sock,
			 strerror(errno));
		fail(unreachable_code, msg, "the agent may be restarting; the runtime should retry");
	}
	close(fd);

	char *newline = memchr(reply.data, '\n', reply.len);
	if (!newline) {
		char msg[512];
		snprintf(msg, sizeof(msg), "the anetd agent at %s closed the connection without a reply",
			 sock);
		fail(unreachable_code, msg, "the agent may be restarting; the runtime should retry");
	}
	int exit_code = atoi(reply.data) == 0 ? 0 : 1;
	size_t body = (size_t)(newline + 1 - reply.data);
	fwrite(reply.data + body, 1, reply.len - body, stdout);
	fflush(stdout);
	return exit_code;
}
