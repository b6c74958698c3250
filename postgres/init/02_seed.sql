-- 10,000 realistic fake SaaS subscriptions: plans weighted like a real funnel,
-- lifetime values by plan, sign-ups over two years, about 6% soft-deleted.
-- Deterministic (setseed) so every fresh database holds the same rows.

SELECT setseed(0.42);

INSERT INTO analytics.subscriptions (email, plan, lifetime_value, created_at, updated_at, deleted_at)
SELECT
  lower(first_name) || '.' || lower(last_name) || g || '@' || domain AS email,
  plan,
  round((CASE plan
           WHEN 'free' THEN 0
           WHEN 'starter' THEN 9 + random() * 300
           WHEN 'pro' THEN 49 + random() * 2500
           WHEN 'business' THEN 199 + random() * 12000
           ELSE 999 + random() * 90000
         END)::numeric, 2) AS lifetime_value,
  created,
  updated,
  CASE WHEN random() < 0.06 THEN updated END AS deleted_at
FROM (
  SELECT g,
    (ARRAY['Ada','Grace','Alan','Linus','Margaret','Ken','Barbara','Dennis','Edsger','Frances',
           'Guido','Radia','Tim','Hedy','John','Katherine','Donald','Sophie','Yukihiro','Anders'])
      [1 + floor(random() * 20)::int] AS first_name,
    (ARRAY['Lovelace','Hopper','Turing','Torvalds','Hamilton','Thompson','Liskov','Ritchie',
           'Dijkstra','Allen','Rossum','Perlman','Lee','Lamarr','Backus','Johnson','Knuth',
           'Wilson','Matsumoto','Hejlsberg'])[1 + floor(random() * 20)::int] AS last_name,
    (ARRAY['example.com','acme.io','globex.com','initech.net','umbrella.org','hooli.xyz'])
      [1 + floor(random() * 6)::int] AS domain,
    CASE
      WHEN r < 0.45 THEN 'free'
      WHEN r < 0.70 THEN 'starter'
      WHEN r < 0.88 THEN 'pro'
      WHEN r < 0.97 THEN 'business'
      ELSE 'enterprise'
    END AS plan,
    created,
    least(created + (random() * interval '200 days'), now() - interval '1 minute') AS updated
  FROM (
    SELECT g, random() AS r,
           date_trunc('second', now() - interval '730 days' * random())
             + (floor(random() * 1000000) || ' microseconds')::interval AS created
    FROM generate_series(1, 10000) AS g
  ) base
) seeded;
