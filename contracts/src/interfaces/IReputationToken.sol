// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IReputationToken
/// @notice Non-transferable reputation earned by agreeing with a final diagnosis. Wallets can
/// show it like an ERC20 balance, but it cannot be moved, approved or sold: reputation that could
/// be bought would open high-bounty tasks to whoever pays.
interface IReputationToken {
    /// @notice Reputation cannot be transferred or approved.
    error ReputationNonTransferable();
    /// @notice Minting or burning to or from the zero address.
    error ZeroAccount();
    /// @notice A burn asked for more than the account holds.
    /// @param account The account.
    /// @param balance What it holds.
    /// @param amount What was asked.
    error BurnExceedsBalance(address account, uint256 balance, uint256 amount);

    /// @notice ERC20's event, emitted after a mint (from zero) or a burn (to zero) only.
    event Transfer(address indexed from, address indexed to, uint256 value);

    /// @notice The role allowed to mint and burn: the diagnosis market.
    function MINTER_ROLE() external view returns (bytes32);

    /// @notice Display name.
    function name() external view returns (string memory);
    /// @notice Display symbol.
    function symbol() external view returns (string memory);
    /// @notice Reputation is counted in whole points.
    function decimals() external view returns (uint8);
    /// @notice All reputation in existence.
    function totalSupply() external view returns (uint256);
    /// @notice The reputation of `account`.
    function balanceOf(address account) external view returns (uint256);

    /// @notice Adds `amount` points to each of `accounts`.
    /// @dev Only the minter role.
    function mintBatch(address[] calldata accounts, uint256 amount) external;
    /// @notice Adds `amount` points to `account`.
    /// @dev Only the minter role.
    function mint(address account, uint256 amount) external;
    /// @notice Removes `amount` points from `account`.
    /// @dev Only the minter role.
    function burn(address account, uint256 amount) external;

    /// @notice Always reverts with {ReputationNonTransferable}.
    function transfer(address to, uint256 amount) external returns (bool);
    /// @notice Always reverts with {ReputationNonTransferable}.
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    /// @notice Always reverts with {ReputationNonTransferable}.
    function approve(address spender, uint256 amount) external returns (bool);
    /// @notice Always zero: nothing can be approved.
    function allowance(address owner, address spender) external view returns (uint256);
}
