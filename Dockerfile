FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/flowbot

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/target/release/flowbot /usr/local/bin/flowbot
COPY bot-scripts /app/bot-scripts
RUN mkdir -p /app/data && chown nobody /app/data
ENV FLOWBOT_LISTEN=0.0.0.0:8080 FLOWBOT_SCRIPTS=/app/bot-scripts FLOWBOT_DATA=/app/data
EXPOSE 8080
USER nobody
CMD ["flowbot", "serve"]
