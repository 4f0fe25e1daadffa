# The commands people expect; each is a thin wrapper over bin/ or pnpm.
.PHONY: setup run build smoke-production test lint typecheck migrate-up migrate-down migrate-current migrate-history migrate-new migrate-check replay bench smoke docker-up docker-down

setup:
	command -v pnpm >/dev/null 2>&1 || npm i -g pnpm
	pnpm install --frozen-lockfile

run:
	bin/start.sh

build:
	pnpm build

smoke-production:
	bin/smoke-production

test:
	pnpm test

lint:
	pnpm lint

typecheck:
	pnpm typecheck

smoke:
	bin/test.sh

migrate-up:
	bin/migrate up

migrate-down:
	bin/migrate down

migrate-current:
	bin/migrate current

migrate-history:
	bin/migrate history

# make migrate-new NAME=add-contacts
migrate-new:
	bin/migrate new $(NAME)

migrate-check:
	bin/migrate check

# make replay ARGS="--verify"
replay:
	bin/replay $(ARGS)

# make bench SCENARIO=append ARGS="--seconds 10"
bench:
	bin/bench $(SCENARIO) $(ARGS)

docker-up:
	docker compose up -d --build

docker-down:
	docker compose down
