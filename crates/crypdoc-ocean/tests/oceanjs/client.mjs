// A researcher with ocean.js and nothing CrypDoc-specific: the Ocean address file (ADDRESS_FILE,
// read by ocean.js's ConfigHelper), the hospital node's URL (NODE_URL), a chain endpoint
// (RPC_URL) and a funded wallet (RESEARCHER_KEY). It finds the hospital's datasets from the
// factory's NFTCreated events, resolves the DDO from the node (Aquarius API), validates it with
// Ocean's own DDO validator (ddo-js, SHACL 4.1.0), buys a datatoken on the fixed-rate exchange and
// starts the order (orderAsset: approve, buyDT, initialize on the node, startOrder), downloads the
// file through the node's signed download URL, and prints one JSON line for the Rust test.
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { ethers } from 'ethers'
import {
  Aquarius,
  ConfigHelper,
  Datatoken,
  ProviderInstance,
  downloadFile,
  generateDid,
  orderAsset,
  LoggerInstance,
  LogLevel
} from '@oceanprotocol/lib'
import { validateDDO } from '@oceanprotocol/ddo-js'

LoggerInstance.setLevel(LogLevel.Error)
const { ADDRESS_FILE, NODE_URL, RPC_URL, RESEARCHER_KEY } = process.env
for (const [k, v] of Object.entries({ ADDRESS_FILE, NODE_URL, RPC_URL, RESEARCHER_KEY })) {
  if (!v) throw new Error(`${k} is not set`)
}
const timings = {}
const time = async (name, f) => {
  const t = performance.now()
  const r = await f()
  timings[name] = Math.round(performance.now() - t)
  return r
}

// ocean.js reads ADDRESS_FILE itself; 'development' is its name for a local chain.
const config = new ConfigHelper().getConfig('development')
config.nodeUri = RPC_URL
config.oceanNodeUri = NODE_URL
// ethers caches identical RPC calls for 250 ms; anvil mines instantly, so a nonce read right after
// a mined transaction would come from the cache and the next transaction would reuse its nonce.
const provider = new ethers.JsonRpcProvider(RPC_URL, undefined, { staticNetwork: true, cacheTimeout: -1 })
const wallet = new ethers.Wallet(RESEARCHER_KEY, provider)
const me = await wallet.getAddress()
const chainId = Number((await provider.getNetwork()).chainId)
if (chainId !== config.chainId) throw new Error(`chain ${chainId} but address file says ${config.chainId}`)

// The hospital's datasets: data NFTs created through Ocean's factory, resolved on the node.
const addresses = JSON.parse(readFileSync(ADDRESS_FILE, 'utf8')).development
const factory = new ethers.Contract(
  config.nftFactoryAddress,
  ['event NFTCreated(address newTokenAddress, address indexed templateAddress, string tokenName, address indexed admin, string symbol, string tokenURI, bool transferable, address indexed creator)'],
  provider
)
const created = await factory.queryFilter(factory.filters.NFTCreated(), addresses.startBlock)
const aquarius = new Aquarius(NODE_URL)
const assets = []
for (const e of created) {
  const did = generateDid(e.args.newTokenAddress, chainId)
  try {
    assets.push(await aquarius.resolve(did))
  } catch {
    // not served by this node
  }
}
if (assets.length === 0) throw new Error('no dataset on the node')
const asset = assets[assets.length - 1]
const [valid, validation] = await validateDDO(asset)

const service = asset.services[0]
const datatoken = new Datatoken(wallet, chainId, config)
const balance = async (token) => {
  const c = new ethers.Contract(token, ['function balanceOf(address) view returns (uint256)'], provider)
  return (await c.balanceOf(me)).toString()
}
const fixedRates = await datatoken.getFixedRates(service.datatokenAddress)
const exchange = new ethers.Contract(
  config.fixedRateExchangeAddress,
  ['function getExchange(bytes32) view returns (address,address,uint256,address,uint256,uint256,bool,uint256,uint256,uint256,uint256,bool)'],
  provider
)
const baseToken = (await exchange.getExchange(fixedRates[0].id))[3]
const before = { base: await balance(baseToken), datatoken: await balance(service.datatokenAddress) }

// Buy one datatoken and start the order: ocean.js's own flow, Provider fee from the node.
const order = await time('orderMs', () => orderAsset(asset, wallet, config, datatoken, NODE_URL))
if (!order) throw new Error('orderAsset failed')
const orderReceipt = await provider.getTransactionReceipt(order.hash)
const after = { base: await balance(baseToken), datatoken: await balance(service.datatokenAddress) }

// Download through the node: nonce, signature over address + nonce + "download", GET.
const url = await ProviderInstance.getDownloadUrl(asset.id, service.id, 0, order.hash, NODE_URL, wallet)
const file = await time('downloadMs', () => downloadFile(url, 0))
const bytes = Buffer.from(file.data)

console.log(
  JSON.stringify({
    oceanjs: JSON.parse(readFileSync(new URL('./node_modules/@oceanprotocol/lib/package.json', import.meta.url), 'utf8')).version,
    datasets: assets.length,
    did: asset.id,
    ddoValid: valid,
    validation,
    orderTx: order.hash,
    orderGas: orderReceipt.gasUsed.toString(),
    before,
    after,
    filename: file.filename,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    text: bytes.toString('utf8'),
    ...timings
  })
)
