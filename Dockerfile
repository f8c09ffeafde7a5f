# backend: lighttpd + the FastCGI mode executables. PostgreSQL is external
# (DATABASE_URL or PG*); the token comes from DATASTORE_TOKEN(_FILE).
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN deploy/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make clean && make
# /docs: Swagger UI's files, pinned by deploy/api-docs/package-lock.json;
# /console: uPlot's, pinned by deploy/console/package-lock.json.
RUN rm -rf deploy/api-docs/node_modules deploy/console/node_modules && deploy/install-deps.sh --docs && rm -rf /var/lib/apt/lists/*

FROM debian:bookworm-slim
COPY deploy/install-deps.sh /opt/backend/deploy/install-deps.sh
RUN /opt/backend/deploy/install-deps.sh --runtime && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin backend
COPY --from=build /src/bin/ /opt/backend/bin/
COPY lighttpd.conf /opt/backend/lighttpd.conf
COPY deploy/lib.sh deploy/entrypoint.sh /opt/backend/deploy/
COPY deploy/errors/ /opt/backend/deploy/errors/
COPY deploy/api-docs/index.html deploy/api-docs/request-id.lua /opt/backend/deploy/api-docs/
COPY --from=build /src/deploy/api-docs/node_modules/swagger-ui-dist/ /opt/backend/deploy/api-docs/node_modules/swagger-ui-dist/
COPY deploy/console/index.html /opt/backend/deploy/console/
COPY deploy/console/app/ /opt/backend/deploy/console/app/
COPY --from=build /src/deploy/console/node_modules/uplot/dist/ /opt/backend/deploy/console/node_modules/uplot/dist/
ENV BACKEND_ROOT=/opt/backend LISTEN_ADDR=0.0.0.0 PORT=4000 BACKEND_RUN_DIR=/tmp/backend-run
USER backend
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:4000/health || exit 1
ENTRYPOINT ["/opt/backend/deploy/entrypoint.sh"]
