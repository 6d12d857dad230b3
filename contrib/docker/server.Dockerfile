# The Sonde server in a container. Build from the project root after mvn -DskipTests verify:
#   docker build -f contrib/docker/server.Dockerfile -t sonde-server:0.1.0 dist/target
# Run (H2 in the data volume; the first start writes data/admin.token and its own TLS CA):
#   docker run -d --name sonde-server -p 8443:8443 -v sonde-server-data:/opt/sonde-server/data sonde-server:0.1.0
#   docker exec sonde-server cat /opt/sonde-server/data/admin.token
FROM debian:12-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless curl \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /opt/sonde-server --shell /usr/sbin/nologin sonde
COPY sonde-server/ /opt/sonde-server/
RUN mkdir -p /opt/sonde-server/data /opt/sonde-server/log \
    && chown -R sonde:sonde /opt/sonde-server/data /opt/sonde-server/log
USER 10001:10001
ENV SONDE_SERVER_HOME=/opt/sonde-server
WORKDIR /opt/sonde-server
EXPOSE 8443
VOLUME ["/opt/sonde-server/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsSk --max-time 4 https://127.0.0.1:8443/healthz || exit 1
ENTRYPOINT ["/opt/sonde-server/bin/sonde-server"]
