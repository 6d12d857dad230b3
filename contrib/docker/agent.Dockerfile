# The Sonde agent in a container. Build from the project root after mvn -DskipTests verify:
#   docker build -f contrib/docker/agent.Dockerfile -t sonde-agent:0.1.0 dist/target
# Run (ICMP as the unprivileged user through datagram sockets, allowed by the sysctl):
#   docker run -d --name sonde-agent -p 9100:9100 --sysctl net.ipv4.ping_group_range="0 2147483647" \
#       -v sonde-agent-data:/opt/sonde/data sonde-agent:0.1.0
# Configuration: mount a directory over /opt/sonde/etc (sonde-cli validate checks it first).
FROM debian:12-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless curl \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /opt/sonde --shell /usr/sbin/nologin sonde
COPY sonde/ /opt/sonde/
# the agent writes its state and logs; its updater replaces plugins and platform jars
RUN mkdir -p /opt/sonde/data /opt/sonde/log \
    && chown -R sonde:sonde /opt/sonde/data /opt/sonde/log /opt/sonde/plugins /opt/sonde/system
USER 10001:10001
ENV SONDE_HOME=/opt/sonde
WORKDIR /opt/sonde
EXPOSE 9100
VOLUME ["/opt/sonde/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS --max-time 4 http://127.0.0.1:9100/healthz || exit 1
# bin/sonde execs the JVM: it is PID 1's program and gets SIGTERM (clean stop) and SIGHUP (reload)
ENTRYPOINT ["/opt/sonde/bin/sonde"]
