// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IReputationToken
/// @notice Non-transferable reputation earned by agreeing with a final diagnosis. Wallets can
/// show it like an ERC20 balance, but it cannot be moved, approved or sold: reputation that could
/// be bought would open high-bounty tasks to whoever pays.
///
/// The minter (the diagnosis market) is fixed at construction and nobody holds an admin role,
/// so no one can take the right to mint away from the market (which would freeze every resolving
/// finalize), hand it to someone else, or burn what doctors earned.
interface IReputationToken {
    /// @notice Reputation cannot be transferred or approved.
    error ReputationNonTransferable();
    /// @notice Minting to the zero address.
    error ZeroAccount();
    /// @notice Only the minter fixed at construction may mint.
    /// @param caller The account that tried.
    error NotMinter(address caller);

    /// @notice ERC20's event, emitted after a mint (from zero) only.
    /// @param from Always the zero address (a mint).
    /// @param to The account credited.
    /// @param value The reputation minted.
    event Transfer(address indexed from, address indexed to, uint256 value);

    /// @notice The only account that can mint: the diagnosis market that created this token.
    function minter() external view returns (address);

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
    /// @dev Only the minter.
    function mintBatch(address[] calldata accounts, uint256 amount) external;

    /// @notice Always reverts with {ReputationNonTransferable}.
    function transfer(address to, uint256 amount) external returns (bool);
    /// @notice Always reverts with {ReputationNonTransferable}.
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    /// @notice Always reverts with {ReputationNonTransferable}.
    function approve(address spender, uint256 amount) external returns (bool);
    /// @notice Always zero: nothing can be approved.
    function allowance(address owner, address spender) external view returns (uint256);
}
