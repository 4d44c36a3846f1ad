// pool-client-not-released: a node-postgres client never released (no semicolons, single quotes, 4 spaces).
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.FIX_PG_URL, max: 10 })

export async function listNames(order) {
    const client = await pool.connect()
    const { rows } = await client.query(`SELECT name FROM items ORDER BY ${order}`)
    return rows.map((row) => row.name)
}

async function main() {
    const results = []
    const errors = []
    for (const order of ['id', 'missing_column', 'name DESC', 'missing_column']) {
        try {
            results.push(await listNames(order))
        } catch (error) {
            errors.push(error.constructor.name)
        }
    }
    console.log(JSON.stringify({ checked_out: pool.totalCount - pool.idleCount, results, errors }))
    process.exit(0)
}

main()
