/* A WebSocket client that stops reading: the slow consumer of the
 * notifications back-pressure test.  Node cannot shrink a socket's receive
 * buffer, and Linux lets an unread one grow to tens of megabytes, so this
 * tool sets SO_RCVBUF before it connects (which also turns autotuning off).
 *
 *   ws_stall HOST PORT PATH AUTHORIZATION
 *
 * Prints "open" once the handshake is answered with 101, then reads nothing
 * until a line arrives on stdin; then it reads to the end of the stream and
 * prints "eof <bytes>" (or "error <errno>"), and exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: ws_stall HOST PORT PATH AUTHORIZATION\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		printf("error %d\n", errno);
		return 1;
	}
	char req[1024];
	int n = snprintf(req, sizeof(req),
	                 "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
	                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	                 "Sec-WebSocket-Version: 13\r\nAuthorization: %s\r\n\r\n",
	                 argv[3], argv[1], argv[2], argv[4]);
	if (write(fd, req, (size_t)n) != n) {
		printf("error %d\n", errno);
		return 1;
	}
	/* The response head, byte by byte, so nothing after it is read. */
	char head[2048];
	size_t len = 0;
	while (len + 1 < sizeof(head)) {
		if (read(fd, head + len, 1) != 1) {
			printf("error %d\n", errno);
			return 1;
		}
		len++;
		if (len >= 4 && !memcmp(head + len - 4, "\r\n\r\n", 4))
			break;
	}
	head[len] = '\0';
	if (!strstr(head, " 101 ")) {
		printf("error handshake\n");
		return 1;
	}
	printf("open\n");
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	size_t total = 0;
	char buf[65536];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)r;
	if (r < 0)
		printf("error %d\n", errno);
	else
		printf("eof %zu\n", total);
	return 0;
}
